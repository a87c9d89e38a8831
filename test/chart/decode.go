package chart

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// Manifest is a decoded chart rendering: its objects in the order helm printed them.
// Kinds of Kubernetes' own API groups and cert-manager's are typed (for example
// *appsv1.Deployment, *cmv1.Certificate); others (ServiceMonitor, PodMonitor) are
// *unstructured.Unstructured.
type Manifest struct {
	// Objects are the rendered objects.
	Objects []client.Object
}

// NewScheme returns a scheme with the built-in Kubernetes types and cert-manager's.
func NewScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("add Kubernetes types to scheme: %w", err)
	}
	if err := cmv1.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("add cert-manager types to scheme: %w", err)
	}
	return s, nil
}

// Decode splits a multi-document manifest and decodes every document. Typed kinds are
// decoded strictly: an unknown or duplicated field is an error naming the document, so a
// typo in a template cannot pass unnoticed.
func Decode(manifest []byte) (*Manifest, error) {
	scheme, err := NewScheme()
	if err != nil {
		return nil, err
	}
	decoder := serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(manifest)))
	m := &Manifest{}
	for i := 0; ; i++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return m, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read document %d: %w", i, err)
		}
		asJSON, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if string(bytes.TrimSpace(asJSON)) == "null" {
			continue // only comments
		}
		var typeMeta metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &typeMeta); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		gvk := typeMeta.GroupVersionKind()
		if gvk.Kind == "" {
			return nil, fmt.Errorf("document %d has no kind", i)
		}
		if !scheme.Recognizes(gvk) {
			u := &unstructured.Unstructured{}
			if err := yaml.Unmarshal(doc, &u.Object); err != nil {
				return nil, fmt.Errorf("document %d (%s): %w", i, gvk.Kind, err)
			}
			m.Objects = append(m.Objects, u)
			continue
		}
		obj, _, err := decoder.Decode(doc, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("document %d (%s): %w", i, gvk.Kind, err)
		}
		co, ok := obj.(client.Object)
		if !ok {
			return nil, fmt.Errorf("document %d (%s) is not an object with metadata", i, gvk.Kind)
		}
		m.Objects = append(m.Objects, co)
	}
}

// Get returns the object of type T named name.
func Get[T client.Object](m *Manifest, name string) (T, error) {
	var zero T
	for _, obj := range m.Objects {
		if typed, ok := obj.(T); ok && obj.GetName() == name {
			return typed, nil
		}
	}
	return zero, fmt.Errorf("no %T named %q in the manifest (have %v)", zero, name, m.Names())
}

// All returns the objects of type T, in order.
func All[T client.Object](m *Manifest) []T {
	var out []T
	for _, obj := range m.Objects {
		if typed, ok := obj.(T); ok {
			out = append(out, typed)
		}
	}
	return out
}

// GetUnstructured returns the untyped object of the given kind and name.
func (m *Manifest) GetUnstructured(kind, name string) (*unstructured.Unstructured, error) {
	for _, obj := range m.Objects {
		if u, ok := obj.(*unstructured.Unstructured); ok && u.GetKind() == kind && u.GetName() == name {
			return u, nil
		}
	}
	return nil, fmt.Errorf("no %s named %q in the manifest (have %v)", kind, name, m.Names())
}

// Names lists the objects as "Kind/name", in order.
func (m *Manifest) Names() []string {
	names := make([]string, 0, len(m.Objects))
	for _, obj := range m.Objects {
		names = append(names, kindOf(obj)+"/"+obj.GetName())
	}
	return names
}

// kindOf returns an object's kind: typed objects decoded by the scheme keep their TypeMeta.
func kindOf(obj client.Object) string {
	return obj.GetObjectKind().GroupVersionKind().Kind
}
