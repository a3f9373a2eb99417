package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary documents to the parser, seeded with every
// testdata file and the deploy example. It must never panic; a document it
// accepts must also pass Validate; a rejected one yields Errors, each with
// a message. Secret files are served from memory so the fuzzer never reads
// the disk.
func FuzzParse(f *testing.F) {
	setTestEnv(f)
	setExampleEnv(f)
	seeds, err := filepath.Glob(filepath.Join("testdata", "*", "*.yml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range append(seeds, examplePath) {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	read := func(string) ([]byte, error) { return []byte(testAPIToken), nil }
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parse(data, "fuzz.yml", "", os.LookupEnv, read)
		if err == nil {
			if verr := c.Validate(); verr != nil {
				t.Fatalf("Parse accepted a config that Validate rejects: %v", verr)
			}
			return
		}
		var errs Errors
		if !errors.As(err, &errs) || len(errs) == 0 {
			t.Fatalf("error %T %v is not a non-empty Errors", err, err)
		}
		for _, e := range errs {
			if e.Msg == "" {
				t.Fatalf("problem without a message: %+v", e)
			}
		}
	})
}

// BenchmarkParseExample measures a full load of the deploy example:
// decode, secrets from env, validation.
func BenchmarkParseExample(b *testing.B) {
	setExampleEnv(b)
	data, err := os.ReadFile(examplePath)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data, "depositd.example.yml"); err != nil {
			b.Fatal(err)
		}
	}
}
