package cowmap

import (
	"fmt"
	"testing"
)

func TestCopyOnWrite(t *testing.T) {
	var m Map[int]
	m1 := m.Set("a", 1).Set("b", 2)
	m2 := m1.Set("a", 10).Delete("b")
	if v, _ := m1.Get("a"); v != 1 {
		t.Fatal("m1 changed")
	}
	if _, ok := m1.Get("b"); !ok || m1.Len() != 2 {
		t.Fatal("m1 lost b")
	}
	if v, _ := m2.Get("a"); v != 10 || m2.Len() != 1 {
		t.Fatal("m2 wrong")
	}
	if v, ok := m2.GetBytes([]byte("a")); !ok || v != 10 {
		t.Fatal("GetBytes")
	}
	b := m2.Builder()
	for i := 0; i < 1000; i++ {
		b.Set(fmt.Sprint(i), i)
	}
	m3 := b.Map()
	if m3.Len() != 1001 || m2.Len() != 1 {
		t.Fatalf("lens %d %d", m3.Len(), m2.Len())
	}
	n := 0
	m3.Range(func(string, int) bool { n++; return true })
	if n != 1001 {
		t.Fatal("range")
	}
}

func BenchmarkSetOneOf100k(b *testing.B) {
	bl := Map[int]{}.Builder()
	for i := 0; i < 100000; i++ {
		bl.Set(fmt.Sprint(i), i)
	}
	m := bl.Map()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m = m.Set("42", i)
	}
}
