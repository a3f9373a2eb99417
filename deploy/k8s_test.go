package deploy_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/depositd/depositd/config"
)

// manifest is the part of a Kubernetes object the checks read.
type manifest struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		Selector map[string]any `yaml:"selector"` // a Service's labels, or matchLabels
		Ports    []struct {
			Port       int    `yaml:"port"`
			TargetPort string `yaml:"targetPort"`
		} `yaml:"ports"`
		Template struct {
			Spec struct {
				SecurityContext struct {
					RunAsNonRoot bool `yaml:"runAsNonRoot"`
				} `yaml:"securityContext"`
				Containers []container `yaml:"containers"`
				Volumes    []struct {
					ConfigMap struct {
						Name string `yaml:"name"`
					} `yaml:"configMap"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type container struct {
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	EnvFrom []struct {
		SecretRef struct {
			Name string `yaml:"name"`
		} `yaml:"secretRef"`
	} `yaml:"envFrom"`
	LivenessProbe   probe `yaml:"livenessProbe"`
	ReadinessProbe  probe `yaml:"readinessProbe"`
	SecurityContext struct {
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   bool  `yaml:"readOnlyRootFilesystem"`
	} `yaml:"securityContext"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

// renderedManifests renders deploy/k8s with `kubectl kustomize` and decodes
// every object.
func renderedManifests(t *testing.T) []manifest {
	t.Helper()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl not installed: the kustomization cannot be rendered here")
	}
	out, err := exec.Command(kubectl, "kustomize", "k8s").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("kubectl kustomize k8s: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var ms []manifest
	dec := yaml.NewDecoder(bytes.NewReader(out))
	for {
		var m manifest
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return ms
		} else if err != nil {
			t.Fatalf("rendered manifests: %v", err)
		}
		ms = append(ms, m)
	}
}

func TestKubernetesManifests(t *testing.T) {
	ms := renderedManifests(t)
	byKind := map[string]manifest{}
	for _, m := range ms {
		byKind[m.Kind] = m
	}
	var kinds []string
	for k := range byKind {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	if want := []string{"ConfigMap", "Deployment", "PodDisruptionBudget", "Service"}; !slices.Equal(kinds, want) {
		t.Fatalf("kinds %v, want %v", kinds, want)
	}
	dep, cm, svc, pdb := byKind["Deployment"], byKind["ConfigMap"], byKind["Service"], byKind["PodDisruptionBudget"]
	pod := dep.Spec.Template.Spec
	if len(pod.Containers) != 1 || len(pod.Volumes) != 1 {
		t.Fatalf("want one container and one volume: %+v", pod)
	}
	c := pod.Containers[0]

	cfgText, ok := cm.Data["depositd.yml"]
	if !ok || pod.Volumes[0].ConfigMap.Name != cm.Metadata.Name {
		t.Fatalf("the pod mounts ConfigMap %q, generated %q with keys %v", pod.Volumes[0].ConfigMap.Name, cm.Metadata.Name, cm.Data)
	}
	for k, v := range containerEnv {
		t.Setenv(k, v)
	}
	cfg, err := config.Parse([]byte(cfgText), "depositd.yml")
	if err != nil {
		t.Fatalf("ConfigMap's depositd.yml: %v", err)
	}
	_, portText, _ := strings.Cut(cfg.Listen, ":")
	listenPort, _ := strconv.Atoi(portText)

	ports := map[string]int{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	for name, p := range map[string]probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if ports[p.HTTPGet.Port] != listenPort || listenPort == 0 {
			t.Errorf("%s probe port %q = %d, config listens on %s", name, p.HTTPGet.Port, ports[p.HTTPGet.Port], cfg.Listen)
		}
	}
	if c.LivenessProbe.HTTPGet.Path != "/healthz" || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("probes %q, %q: want /healthz and /readyz", c.LivenessProbe.HTTPGet.Path, c.ReadinessProbe.HTTPGet.Path)
	}
	if len(svc.Spec.Ports) != 1 || ports[svc.Spec.Ports[0].TargetPort] != listenPort {
		t.Errorf("Service ports %+v do not reach the config's port %d", svc.Spec.Ports, listenPort)
	}
	if len(c.EnvFrom) != 1 || c.EnvFrom[0].SecretRef.Name == "" {
		t.Errorf("envFrom %+v: want the secrets from one Secret", c.EnvFrom)
	}
	if !pod.SecurityContext.RunAsNonRoot || !c.SecurityContext.ReadOnlyRootFilesystem ||
		c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation {
		t.Errorf("pod %+v, container %+v: want non-root, read-only, no privilege escalation", pod.SecurityContext, c.SecurityContext)
	}
	for name, sel := range map[string]any{"Deployment": dep.Spec.Selector["matchLabels"], "Service": svc.Spec.Selector,
		"PodDisruptionBudget": pdb.Spec.Selector["matchLabels"]} {
		if m, _ := sel.(map[string]any); m["app.kubernetes.io/name"] != "depositd" {
			t.Errorf("%s selector %v does not select the pods", name, sel)
		}
	}

	t.Run("probe paths answer on a running daemon", func(t *testing.T) {
		d := startDaemon(t)
		for _, p := range []string{c.LivenessProbe.HTTPGet.Path, c.ReadinessProbe.HTTPGet.Path} {
			if code := probeGet(t, d.Addr, p); code != 200 {
				t.Errorf("GET %s = %d, want 200", p, code)
			}
		}
		if code := probeGet(t, d.Addr, "/no-such-probe"); code == 200 {
			t.Error("an unknown path answers 200: the probe check proves nothing")
		}
	})
}

func TestSystemdUnit(t *testing.T) {
	unit, err := os.ReadFile("systemd/depositd.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
		"CapabilityBoundingSet=\n", "RestrictAddressFamilies=", "SystemCallFilter=@system-service", "User=depositd",
		"ExecStart=/usr/local/bin/depositd run -c /etc/depositd/depositd.yml"} {
		if !bytes.Contains(unit, []byte(want)) {
			t.Errorf("unit lacks %q", want)
		}
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed: the unit was checked for its hardening keys only")
	}
	// verify checks that ExecStart's binary exists: point it at the one built here.
	bin := containerBinary(t)
	verify := func(t *testing.T, text []byte) string {
		t.Helper()
		path := filepath.Join(t.TempDir(), "depositd.service")
		if err := os.WriteFile(path, bytes.ReplaceAll(text, []byte("/usr/local/bin/depositd"), []byte(bin)), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(analyze, "verify", "--man=no", path).CombinedOutput()
		if err != nil && len(out) == 0 {
			return err.Error()
		}
		return string(out)
	}
	if out := verify(t, unit); out != "" {
		t.Fatalf("systemd-analyze verify:\n%s", out)
	}
	if out := verify(t, bytes.Replace(unit, []byte("ProtectSystem=strict"), []byte("ProtectSystem=sometimes"), 1)); out == "" {
		t.Fatal("systemd-analyze verify accepted a bad ProtectSystem value: the check proves nothing")
	}
}
