package config

import (
	"math"
	"testing"
)

func TestParseKubeMinor(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    int
		wantErr bool
	}{
		{name: "a bare major.minor", in: "1.28", want: 28},
		{name: "a git version with a v", in: "v1.29.3", want: 29},
		{name: "a vendor build", in: "v1.30.0-eks-1234", want: 30},
		{name: "a later major counts as newest", in: "2.0", want: math.MaxInt32},
		{name: "major zero is refused", in: "0.9", wantErr: true},
		{name: "a word is refused", in: "latest", wantErr: true},
		{name: "empty is refused", in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKubeMinor(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseKubeMinor(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseKubeMinor(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}
