// Command etcd is the etcd server of the e2e tier's throw-away API server: etcd's own entry point
// (go.etcd.io/etcd/server/v3/etcdmain) behind a main of ours, because the served server/v3 module
// has no main package of its own (that lives in etcd's root module).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
