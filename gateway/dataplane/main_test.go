package dataplane

import (
	"fmt"
	"os"
	"testing"

	"devportal/internal/etcdtest"
)

// etcd is the package's shared embedded etcd member; tests keep apart by prefix.
var etcd *etcdtest.Member

func TestMain(m *testing.M) {
	var err error
	etcd, err = etcdtest.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "etcd:", err)
		os.Exit(1)
	}
	code := m.Run()
	etcd.Close()
	os.Exit(code)
}
