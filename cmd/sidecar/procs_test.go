package main

import (
	"runtime"
	"testing"
)

func TestLimitProcs(t *testing.T) {
	tests := []struct {
		name string
		env  string
		want func(before int) int
	}{
		{name: "without GOMAXPROCS the sidecar runs on one P", env: "", want: func(int) int { return 1 }},
		{name: "a GOMAXPROCS set by the operator is left alone", env: "4", want: func(before int) int { return before }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := runtime.GOMAXPROCS(3)
			defer runtime.GOMAXPROCS(before)
			limitProcs(func(key string) string {
				if key == envGOMAXPROCS {
					return tt.env
				}
				return ""
			})
			if got, want := runtime.GOMAXPROCS(0), tt.want(3); got != want {
				t.Errorf("GOMAXPROCS = %d, want %d", got, want)
			}
		})
	}
}
