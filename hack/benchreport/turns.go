package main

// takeTurns runs rounds of n measurements that are compared with each
// other, the order rotating from round to round (0 1 2, 1 2 0, 2 0 1, …;
// with two: 0 1, 1 0, 0 1), so that all of them see the same drift of a
// shared machine. run gets which measurement and the round.
func takeTurns(rounds, n int, run func(which, round int) error) error {
	for r := range rounds {
		for k := range n {
			if err := run((r+k)%n, r); err != nil {
				return err
			}
		}
	}
	return nil
}
