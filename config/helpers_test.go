package config

import "testing"

// Valid secrets shared by the tests. The webhook secret is the Standard
// Webhooks test vector's (24 bytes).
const (
	testWebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	testAPIToken      = "0123456789abcdef0123456789abcdef"
)

// setTestEnv sets the environment variables the testdata files reference.
func setTestEnv(t testing.TB) {
	t.Helper()
	for k, v := range map[string]string{
		"DEPOSITD_TEST_REDIS_URL":          "redis://127.0.0.1:6379/0",
		"DEPOSITD_TEST_WEBHOOK_SECRET":     testWebhookSecret,
		"DEPOSITD_TEST_BAD_WEBHOOK_SECRET": "whsec_c2hvcnQ=",
		"DEPOSITD_TEST_API_TOKEN":          testAPIToken,
	} {
		t.Setenv(k, v)
	}
}
