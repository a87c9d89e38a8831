package main

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTakeTurnsRotatesTheOrderEveryRound(t *testing.T) {
	tests := []struct {
		name      string
		rounds, n int
		want      [][2]int // which, round
	}{
		{name: "two alternate: 0 1, 1 0, 0 1", rounds: 3, n: 2, want: [][2]int{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 2}, {1, 2}}},
		{name: "three rotate: 0 1 2, 1 2 0", rounds: 2, n: 3, want: [][2]int{{0, 0}, {1, 0}, {2, 0}, {1, 1}, {2, 1}, {0, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got [][2]int
			if err := takeTurns(tt.rounds, tt.n, func(which, round int) error {
				got = append(got, [2]int{which, round})
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("order (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTakeTurnsStopsAtTheFirstError(t *testing.T) {
	boom := errors.New("boom")
	calls := 0
	err := takeTurns(3, 2, func(which, _ int) error {
		calls++
		if which == 1 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || calls != 2 {
		t.Errorf("error %v after %d calls, want boom after 2", err, calls)
	}
}

func TestSignedPrintsTheDifferenceWithItsSign(t *testing.T) {
	for d, want := range map[time.Duration]string{1500 * time.Microsecond: "+1.50ms", -300 * time.Microsecond: "−300.0µs", 0: "+0.0µs"} {
		if got := signed(d); got != want {
			t.Errorf("signed(%s) = %q, want %q", d, got, want)
		}
	}
}
