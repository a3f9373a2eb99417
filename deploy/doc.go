// Package deploy holds the deployment artifacts of depositd (example config,
// Prometheus alerts, Grafana dashboard, Dockerfile, compose file, systemd
// unit, Kubernetes manifests) and, in its tests, the offline checks CI runs
// on them. It has no code of its own.
package deploy
