package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// Load reads, defaults and validates the configuration file at path. Fields
// the file leaves out keep their defaults; unknown fields are an error, so a
// typo never silently falls back to a default.
func Load(path, version string) (*Config, error) {
	// The path is the operator's own choice (a flag), not request input.
	data, err := os.ReadFile(filepath.Clean(path))
	if err != nil {
		return nil, fmt.Errorf("read config %q: %w", path, err)
	}
	cfg, err := Parse(data, version)
	if err != nil {
		return nil, fmt.Errorf("config %q: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes a configuration document over the defaults and validates it.
// A document that sets sidecar.resources replaces the default requests and
// limits as a whole (decoding would otherwise merge into the default maps, and
// an operator could never drop, say, the default CPU limit).
func Parse(data []byte, version string) (*Config, error) {
	cfg := Default(version)
	if len(bytes.TrimSpace(data)) > 0 {
		var set struct {
			Sidecar struct {
				Resources *json.RawMessage `json:"resources"`
			} `json:"sidecar"`
		}
		if err := yaml.Unmarshal(data, &set); err == nil && set.Sidecar.Resources != nil {
			cfg.Sidecar.Resources = corev1.ResourceRequirements{}
		}
		if err := yaml.UnmarshalStrict(data, cfg); err != nil {
			return nil, fmt.Errorf("decode: %w", err)
		}
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}
