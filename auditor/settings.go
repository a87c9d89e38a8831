package auditor

import (
	"errors"
	"fmt"
	"time"
)

// Defaults and bounds of Settings.
const (
	// DefaultPeriod is how often an uninjected pod is checked again and how
	// often its owner's Event may be repeated.
	DefaultPeriod = 5 * time.Minute
	// MinPeriod is the shortest Period accepted.
	MinPeriod = time.Second
	// DefaultRestartCooldown is the shortest time between two evictions of
	// one owner's pods.
	DefaultRestartCooldown = time.Hour
)

// Settings are the auditor's knobs (the webhook binary's --auditor-* flags).
type Settings struct {
	// Period is how often a pod found uninjected is checked again, and the
	// shortest time between two SidecarMissing Events on one owner.
	Period time.Duration
	// RolloutRestart lets the auditor evict an uninjected pod of a
	// Deployment, ReplicaSet, StatefulSet or DaemonSet, so that it is
	// re-created with the sidecar, where a RoleBinding grants it. Off by
	// default: the auditor then only reports.
	RolloutRestart bool
	// RestartCooldown is the shortest time between two evictions of one
	// owner's pods.
	RestartCooldown time.Duration
}

// DefaultSettings returns the settings used when no flag says otherwise.
func DefaultSettings() Settings {
	return Settings{Period: DefaultPeriod, RestartCooldown: DefaultRestartCooldown}
}

// Validate reports every problem with the settings at once.
func (s Settings) Validate() error {
	var errs []error
	if s.Period < MinPeriod {
		errs = append(errs, fmt.Errorf("period %s is shorter than %s", s.Period, MinPeriod))
	}
	if s.RestartCooldown < 0 {
		errs = append(errs, fmt.Errorf("restart cool-down %s is negative", s.RestartCooldown))
	}
	return errors.Join(errs...)
}
