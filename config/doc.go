// Package config holds gopherscope's injection configuration (its type,
// defaults, validation and loading from YAML) and the label, annotation and
// flag names shared by the injector, the webhook, the CLI and the sidecar.
package config
