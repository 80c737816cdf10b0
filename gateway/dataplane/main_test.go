package dataplane

import (
	"testing"

	"devportal/internal/etcdtest"
)

// etcd is the package's shared embedded etcd member; tests keep apart by prefix.
var etcd *etcdtest.Member

func TestMain(m *testing.M) { etcdtest.Main(m, &etcd) }
