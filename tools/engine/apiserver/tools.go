//go:build tools

// Package apiserver only pins the module graph for `go build k8s.io/kubernetes/cmd/kube-apiserver`:
// build.sh builds Kubernetes' own main package from this module, so nothing of it is copied here.
package apiserver

import _ "k8s.io/kubernetes/cmd/kube-apiserver/app"
