package cli

import (
	"bytes"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/injector"
	"github.com/gopherscope/gopherscope/internal/typedpatch"
)

// injectStream injects every Pod and pod template of a multi-document YAML
// stream and returns the stream to write and the warnings to show, each
// prefixed with its object ("Deployment/web: ..."). On any error (invalid
// YAML, an object that does not decode, a strict-mode denial) it returns
// every error, each naming its document, and no output: a half-injected
// stream must never reach `kubectl apply`.
//
// Documents that are not injected (other kinds, opted-out or already
// injected pods, blank documents) are written back byte for byte, comments
// included. An injected document is re-rendered with the injection applied
// as a patch (see applyDiff): everything it held is kept with the same
// values (fields this binary's API types do not know included), and so are
// its comments, key order and quoting; indentation is normalised to two
// spaces.
func injectStream(data []byte, cfg *config.Config) ([]byte, []string, error) {
	var out bytes.Buffer
	var warnings []string
	var errs []error
	index := 0
	for _, doc := range splitDocuments(data) {
		out.Write(doc.separator)
		if isBlank(doc.body) {
			out.Write(doc.body)
			continue
		}
		index++
		body, docWarnings, err := injectDocument(doc.body, index, cfg)
		warnings = append(warnings, docWarnings...)
		if err != nil {
			errs = append(errs, fmt.Errorf("document %d (line %d): %w", index, doc.line, err))
			continue
		}
		out.Write(body)
	}
	if len(errs) > 0 {
		return nil, warnings, errors.Join(errs...)
	}
	return out.Bytes(), warnings, nil
}

// injectDocument injects one non-blank document, or returns it unchanged.
func injectDocument(body []byte, index int, cfg *config.Config) ([]byte, []string, error) {
	original, h, err := decodeHeader(body)
	if err != nil {
		return nil, nil, err
	}
	name := h.objectName(index)
	obj := newObject(h.TypeMeta)
	if obj == nil {
		if want, ok := workloadKinds[h.Kind]; ok && h.APIVersion != want {
			return body, []string{fmt.Sprintf("%s: apiVersion %q is not supported (want %s); passed through without injection", name, h.APIVersion, want)}, nil
		}
		return body, nil, nil
	}
	if err := json.Unmarshal(original, obj); err != nil {
		return nil, nil, fmt.Errorf("%s: decode: %w", name, err)
	}
	before, err := json.Marshal(obj)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: encode: %w", name, err)
	}

	meta, spec := obj.template()
	pod := &corev1.Pod{ObjectMeta: *meta, Spec: *spec}
	injected, warnings, decision := injector.Inject(pod, injector.Namespace{Name: obj.meta().Namespace, Offline: true}, cfg)
	for i, w := range warnings {
		warnings[i] = name + ": " + w
	}
	switch decision.Action {
	case injector.ActionInject:
	case injector.ActionDeny:
		return nil, warnings, fmt.Errorf("%s: denied (strict mode): %s", name, decision.Message)
	default:
		return body, warnings, nil
	}

	*meta, *spec = injected.ObjectMeta, injected.Spec
	after, err := json.Marshal(obj)
	if err != nil {
		return nil, warnings, fmt.Errorf("%s: encode: %w", name, err)
	}
	rewritten, err := applyDiff(body, original, before, after)
	if err != nil {
		return nil, warnings, fmt.Errorf("%s: %w", name, err)
	}
	return rewritten, warnings, nil
}

// applyDiff applies the difference between the typed object before and
// after injection to the document itself and returns the new document.
// Patching the original rather than encoding the typed object keeps what
// the types would drop or add (unknown fields, `status: {}`,
// `creationTimestamp: null`).
//
// The patch is applied twice: to the document's JSON form, which always
// works and is the reference, and to its YAML tree, which keeps comments,
// key order and quoting. The YAML result is used when it holds exactly the
// same data as the reference; otherwise the reference is rendered as YAML
// (sorted keys, only the comments at the top kept).
func applyDiff(body, original, before, after []byte) ([]byte, error) {
	patched, ops, err := typedpatch.Apply(original, before, after)
	if err != nil {
		return nil, fmt.Errorf("apply the injection: %w", err)
	}
	for _, op := range ops {
		if op.Operation == "remove" {
			return nil, fmt.Errorf("the injection would remove %s; refusing to write it", op.Path)
		}
	}
	reference, err := yaml.JSONToYAML(patched)
	if err != nil {
		return nil, fmt.Errorf("render YAML: %w", err)
	}
	if kept, err := patchYAML(body, ops); err == nil && sameContent(kept, reference) {
		return kept, nil
	}
	return append(bytes.Clone(leadingComments(body)), reference...), nil
}
