package deploy_test

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"
)

// containerEnv are the variables k8s/depositd.yml reads: the keys of the
// Secret the manifests reference and of compose's env file.
var containerEnv = map[string]string{
	"DEPOSITD_REDIS_URL":      "redis://:pw@redis:6379/0",
	"DEPOSITD_TOKEN_OPS":      "ops-0123456789abcdef",
	"DEPOSITD_TOKEN_BILLING":  "billing-0123456789abcdef",
	"DEPOSITD_ETH_RPC_URL":    "https://mainnet.example.org/v3/key",
	"DEPOSITD_BSC_RPC_URL":    "https://bsc.example.org/key",
	"DEPOSITD_TRONGRID_KEY":   "trongrid-key",
	"DEPOSITD_SOLANA_RPC_URL": "https://solana.example.org/?api-key=key",
	"DEPOSITD_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// containerBinary builds depositd as deploy/Dockerfile does (CGO_ENABLED=0).
func containerBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "depositd-deploy-test")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "depositd")
		cmd := exec.Command("go", "build", "-trimpath", "-o", binPath, "../cmd/depositd")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v", buildErr)
	}
	return binPath
}

func TestContainerBinaryAndConfig(t *testing.T) {
	bin := containerBinary(t)
	t.Run("static", func(t *testing.T) {
		f, err := elf.Open(bin)
		if err != nil {
			t.Skipf("not an ELF binary here: %v", err)
		}
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Fatal("the binary asks for a dynamic loader: it would not run on a distroless/static base")
			}
		}
	})
	t.Run("config validate", func(t *testing.T) {
		cmd := exec.Command(bin, "config", "validate", "-c", "k8s/depositd.yml")
		cmd.Env = os.Environ()
		for k, v := range containerEnv {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), ": ok") {
			t.Fatalf("depositd config validate -c k8s/depositd.yml: %v\n%s", err, out)
		}
		cmd.Env = os.Environ() // without the secrets it must refuse
		if out, err := cmd.CombinedOutput(); err == nil {
			t.Fatalf("validate passed without the secrets' variables:\n%s", out)
		}
	})
}

// dockerfile is the instructions of deploy/Dockerfile, stage by stage.
func dockerfileStages(t *testing.T) [][]string {
	t.Helper()
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var stages [][]string
	var cont string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if s, ok := strings.CutSuffix(line, "\\"); ok {
			cont += s + " "
			continue
		}
		line, cont = cont+line, ""
		if strings.HasPrefix(line, "FROM ") {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			t.Fatalf("instruction before FROM: %s", line)
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], line)
	}
	return stages
}

func TestDockerfile(t *testing.T) {
	stages := dockerfileStages(t)
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a build stage and a runtime stage", len(stages))
	}
	build, final := strings.Join(stages[0], "\n"), stages[len(stages)-1]
	gomod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	for _, want := range []string{"FROM golang:" + string(goVersion[1]), "CGO_ENABLED=0 GOOS=linux go build", "./cmd/depositd"} {
		if !strings.Contains(build, want) {
			t.Errorf("build stage lacks %q", want)
		}
	}
	var user, entry, cmd string
	for _, l := range final {
		switch {
		case strings.HasPrefix(l, "FROM "):
			if !strings.Contains(l, "distroless/static") {
				t.Errorf("runtime base %q: want a distroless static image", l)
			}
		case strings.HasPrefix(l, "USER "):
			user = strings.TrimPrefix(l, "USER ")
		case strings.HasPrefix(l, "ENTRYPOINT "):
			entry = l
		case strings.HasPrefix(l, "CMD "):
			cmd = l
		}
	}
	if user == "" || strings.HasPrefix(user, "0") || strings.HasPrefix(user, "root") {
		t.Errorf("runtime USER %q: want a non-root uid", user)
	}
	if !strings.Contains(entry, "/usr/local/bin/depositd") || !strings.Contains(cmd, `"/etc/depositd/depositd.yml"`) {
		t.Errorf("ENTRYPOINT %q, CMD %q: want depositd run -c /etc/depositd/depositd.yml", entry, cmd)
	}
}

func TestCompose(t *testing.T) {
	var c struct {
		Services map[string]struct {
			Image   string `yaml:"image"`
			Command []string
			Build   struct {
				Context    string `yaml:"context"`
				Dockerfile string `yaml:"dockerfile"`
			} `yaml:"build"`
			Volumes   []string                  `yaml:"volumes"`
			DependsOn map[string]map[string]any `yaml:"depends_on"`
		} `yaml:"services"`
	}
	data, err := os.ReadFile("compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatalf("compose.yml: %v", err)
	}
	redis, app := c.Services["redis"], c.Services["depositd"]
	flags := map[string]string{}
	for i, a := range redis.Command {
		if strings.HasPrefix(a, "--") && i+1 < len(redis.Command) {
			flags[a] = redis.Command[i+1]
		}
	}
	for k, want := range map[string]string{"--appendonly": "yes", "--appendfsync": "always", "--maxmemory-policy": "noeviction"} {
		if flags[k] != want {
			t.Errorf("redis %s = %q, want %q", k, flags[k], want)
		}
	}
	if _, err := os.Stat(filepath.Join(app.Build.Context, app.Build.Dockerfile)); err != nil || app.Build.Context != ".." {
		t.Errorf("depositd build %+v: want the repository root and deploy/Dockerfile (%v)", app.Build, err)
	}
	if app.DependsOn["redis"]["condition"] != "service_healthy" {
		t.Errorf("depositd depends_on %v: want redis service_healthy", app.DependsOn)
	}
	mounted := false
	for _, v := range app.Volumes {
		src, dst, _ := strings.Cut(v, ":")
		if strings.HasPrefix(dst, "/etc/depositd/depositd.yml") {
			_, err := os.Stat(src)
			mounted = err == nil && strings.Join(app.Command, " ") == "run -c /etc/depositd/depositd.yml"
		}
	}
	if !mounted {
		t.Errorf("depositd volumes %v, command %v: want an existing config mounted where `run -c` reads it", app.Volumes, app.Command)
	}
}

// probeGet asks a running daemon for path.
func probeGet(t *testing.T, addr, path string) int {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}
