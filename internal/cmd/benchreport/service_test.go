package main

import (
	"testing"
	"time"
)

func TestParseBenchLine(t *testing.T) {
	const name = "BenchmarkServiceRoundTrip/1MiB/random"
	good := "goos: linux\n" + name + "-2  \t       8\t   5260544 ns/op\t 235.90 MB/s\t      1609 sha-MB/s\t 0.1466 xSHA\nPASS\n"
	tests := []struct {
		name, out string
		wantN     int
		wantMBps  float64
		wantErr   bool
	}{
		{name: "with GOMAXPROCS suffix", out: good, wantN: 8, wantMBps: 235.90},
		{name: "without suffix", out: name + " 3 100 ns/op 12.5 MB/s\n", wantN: 3, wantMBps: 12.5},
		{name: "another sub-benchmark only", out: name + "x-2 3 100 ns/op 12.5 MB/s\n", wantErr: true},
		{name: "odd fields", out: name + "-2 3 100 ns/op 12.5\n", wantErr: true},
		{name: "value not a number", out: name + "-2 3 fast ns/op\n", wantErr: true},
		{name: "failed run", out: "--- FAIL: " + name + "\nFAIL\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, m, err := parseBenchLine([]byte(tt.out), name)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && (n != tt.wantN || m["MB/s"] != tt.wantMBps) {
				t.Errorf("got %d iterations, %v MB/s; want %d, %v", n, m["MB/s"], tt.wantN, tt.wantMBps)
			}
		})
	}
}

func TestServiceIters(t *testing.T) {
	local, _ := budgets(false, 0)
	quick, _ := budgets(true, 0)
	exact, _ := budgets(false, 8)
	tests := []struct {
		name string
		b    budget
		size int
		want int
	}{
		{"default 1MiB", local, 1 << 20, 20},
		{"default 16MiB", local, 16 << 20, 12},
		{"default 64MiB", local, 64 << 20, 6},
		{"quick", quick, 64 << 20, 2},
		{"iters", exact, 1 << 20, 8},
		{"capped by maxIters", budget{minIters: 1, maxIters: 4, minTime: time.Second}, 1 << 20, 4},
	}
	for _, tt := range tests {
		if got := serviceIters(tt.b, tt.size); got != tt.want {
			t.Errorf("%s: serviceIters = %d, want %d", tt.name, got, tt.want)
		}
	}
}
