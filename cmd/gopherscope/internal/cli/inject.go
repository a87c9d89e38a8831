package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	jsonpatch "gomodules.xyz/jsonpatch/v2"
	corev1 "k8s.io/api/core/v1"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/injector"
	"github.com/gopherscope/gopherscope/internal/typedpatch"
)

// injectInputs injects every input in order and returns the stream to write,
// the lines for stderr (each object's warnings, then its summary line), and
// every error, each naming its input and document. On any error there is
// no output: a half-injected stream must never reach `kubectl apply`.
//
// When every input is JSON the output is a stream of JSON objects (one per
// line or indented as they came), which kubectl reads; otherwise it is one
// YAML stream, the documents of successive inputs separated by "---".
func injectInputs(inputs []input, cfg *config.Config) ([]byte, []string, error) {
	allJSON := len(inputs) > 0
	docsOf := make([][]jsonDocument, len(inputs))
	for i, in := range inputs {
		var ok bool
		if docsOf[i], ok = splitJSON(in.data); !ok {
			allJSON = false
		}
	}
	var out bytes.Buffer
	var lines []string
	var errs []error
	for i, in := range inputs {
		var chunk []byte
		var inLines []string
		var err error
		if docsOf[i] != nil {
			chunk, inLines, err = injectJSONStream(docsOf[i], allJSON, cfg)
		} else {
			chunk, inLines, err = injectStream(in.data, cfg)
		}
		lines = append(lines, inLines...)
		if err != nil {
			errs = append(errs, prefixErrors(in.name, err))
			continue
		}
		if !allJSON && out.Len() > 0 && len(chunk) > 0 {
			if !bytes.HasSuffix(out.Bytes(), []byte("\n")) {
				out.WriteByte('\n')
			}
			if docs := splitDocuments(chunk); len(docs[0].separator) == 0 {
				out.WriteString("---\n")
			}
		}
		out.Write(chunk)
	}
	if len(errs) > 0 {
		return nil, lines, errors.Join(errs...)
	}
	return out.Bytes(), lines, nil
}

// prefixErrors puts the input's name before each of the joined errors.
func prefixErrors(name string, err error) error {
	var list []error
	for _, e := range flatten(err) {
		list = append(list, fmt.Errorf("%s: %w", name, e))
	}
	return errors.Join(list...)
}

// injectStream injects every document of a YAML stream. Documents that are
// not injected (other kinds, opted-out or already injected pods, blank
// documents) are written back byte for byte, comments included; an injected
// one is re-rendered as render describes.
func injectStream(data []byte, cfg *config.Config) ([]byte, []string, error) {
	var out bytes.Buffer
	var lines []string
	var errs []error
	index := 0
	for _, doc := range splitDocuments(data) {
		out.Write(doc.separator)
		if isBlank(doc.body) {
			out.Write(doc.body)
			continue
		}
		index++
		where := fmt.Sprintf("document %d (line %d)", index, doc.line)
		body, docLines, err := injectDocument(doc.body, false, where, cfg)
		lines = append(lines, docLines...)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out.Write(body)
	}
	if len(errs) > 0 {
		return nil, lines, errors.Join(errs...)
	}
	return out.Bytes(), lines, nil
}

// injectJSONStream injects a stream of JSON documents; each is written on
// its own, followed by a newline, then by "---" when the output is YAML.
func injectJSONStream(docs []jsonDocument, allJSON bool, cfg *config.Config) ([]byte, []string, error) {
	var out bytes.Buffer
	var lines []string
	var errs []error
	for i, doc := range docs {
		where := fmt.Sprintf("document %d (line %d)", i+1, doc.line)
		body, docLines, err := injectDocument(doc.raw, true, where, cfg)
		lines = append(lines, docLines...)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if i > 0 && !allJSON {
			out.WriteString("---\n")
		}
		out.Write(bytes.TrimRight(body, "\n"))
		out.WriteByte('\n')
	}
	if len(errs) > 0 {
		return nil, lines, errors.Join(errs...)
	}
	return out.Bytes(), lines, nil
}

// injectDocument injects one non-blank document, a single object or a
// kind: List whose items are injected one by one, and returns it, unchanged
// when nothing is injected.
func injectDocument(body []byte, isJSON bool, where string, cfg *config.Config) ([]byte, []string, error) {
	doc, h, err := decodeHeader(body, isJSON)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", where, err)
	}
	var ops []jsonpatch.Operation
	var lines []string
	if !h.isList() {
		if ops, lines, err = injectObject(doc, where, cfg); err != nil {
			return nil, lines, err
		}
	} else {
		var list struct {
			Items []json.RawMessage `json:"items"`
		}
		if err := utiljson.Unmarshal(doc, &list); err != nil {
			return nil, nil, fmt.Errorf("%s: List: %w", where, err)
		}
		var errs []error
		for i, item := range list.Items {
			itemOps, itemLines, err := injectObject(item, fmt.Sprintf("%s, item %d", where, i), cfg)
			lines = append(lines, itemLines...)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			for _, op := range itemOps {
				op.Path = fmt.Sprintf("/items/%d%s", i, op.Path)
				ops = append(ops, op)
			}
		}
		if len(errs) > 0 {
			return nil, lines, errors.Join(errs...)
		}
	}
	if len(ops) == 0 {
		return body, lines, nil
	}
	rendered, err := render(body, doc, ops, isJSON)
	if err != nil {
		return nil, lines, fmt.Errorf("%s: %w", where, err)
	}
	return rendered, lines, nil
}

// injectObject injects one object given as JSON and returns the patch
// operations that inject it (none when it is not injected) and its lines
// for stderr: its warnings and, for a Pod or workload, its summary.
func injectObject(original []byte, where string, cfg *config.Config) ([]jsonpatch.Operation, []string, error) {
	var h header
	if err := utiljson.Unmarshal(original, &h); err != nil {
		return nil, nil, fmt.Errorf("%s: not a Kubernetes object: %w", where, err)
	}
	name := h.objectName(where)
	obj := newObject(h.TypeMeta)
	if obj == nil {
		if want, ok := workloadKinds[h.Kind]; ok && h.APIVersion != want {
			return nil, []string{fmt.Sprintf("%s skipped: apiVersion %q is not supported (want %s)", name, h.APIVersion, want)}, nil
		}
		return nil, nil, nil
	}
	if err := utiljson.Unmarshal(original, obj); err != nil {
		return nil, nil, fmt.Errorf("%s: %s: decode: %w", where, name, err)
	}
	before, err := json.Marshal(obj)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %s: encode: %w", where, name, err)
	}

	meta, spec := obj.template()
	pod := &corev1.Pod{ObjectMeta: *meta, Spec: *spec}
	injected, warnings, decision := injector.Inject(pod, injector.Namespace{Name: obj.meta().Namespace, Offline: true}, cfg)
	lines := make([]string, 0, len(warnings)+1)
	for _, w := range warnings {
		lines = append(lines, name+": "+w)
	}
	switch decision.Action {
	case injector.ActionInject:
	case injector.ActionDeny:
		return nil, lines, violationError{fmt.Errorf("%s: %s: denied: %s", where, name, decision.Message)}
	default:
		return nil, append(lines, name+" skipped: "+decision.Message), nil
	}

	*meta, *spec = injected.ObjectMeta, injected.Spec
	after, err := json.Marshal(obj)
	if err != nil {
		return nil, lines, fmt.Errorf("%s: %s: encode: %w", where, name, err)
	}
	_, ops, err := typedpatch.Apply(original, before, after)
	if err != nil {
		return nil, lines, fmt.Errorf("%s: %s: %w", where, name, err)
	}
	for _, op := range ops {
		if op.Operation == "remove" {
			return nil, lines, fmt.Errorf("%s: %s: the injection would remove %s; refusing to write it", where, name, op.Path)
		}
	}
	return ops, append(lines, name+" injected"), nil
}

// kindName is the lower-case kind, as kubectl names objects ("deployment/web").
func kindName(kind string) string { return strings.ToLower(kind) }
