// Command k8svalidate checks rendered Kubernetes manifests offline, the way an API server of the
// version in go.mod (k8s.io/api) would decode them: every built-in kind is decoded strictly with
// client-go's scheme (an unknown or duplicated field, or a wrong type, is an error), and every
// custom resource is checked against the openAPIV3Schema of its CustomResourceDefinition (given
// with -crds): schema errors and fields the API server would prune both fail.
//
// Usage: k8svalidate [-crds DIR] FILE...  (FILE "-" reads stdin; multi-document YAML)
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	apiextensions "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	sigsyaml "sigs.k8s.io/yaml"
)

// customKind is one served version of a CRD: its schema, ready to validate and prune with.
type customKind struct {
	validator  validation.SchemaValidator
	structural *structuralschema.Structural
}

func main() {
	crdDir := flag.String("crds", "", "a directory of CustomResourceDefinition YAML files")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: k8svalidate [-crds DIR] FILE...")
		os.Exit(2)
	}
	if err := apiextensionsv1.AddToScheme(scheme.Scheme); err != nil {
		fail(err)
	}
	strict := kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme.Scheme, scheme.Scheme,
		kjson.SerializerOptions{Yaml: true, Strict: true})
	custom := map[schema.GroupVersionKind]customKind{}
	if *crdDir != "" {
		if err := loadCRDs(*crdDir, strict, custom); err != nil {
			fail(err)
		}
	}
	problems, checked := 0, map[string]int{}
	for _, name := range flag.Args() {
		docs, err := readDocuments(name)
		if err != nil {
			fail(err)
		}
		for i, doc := range docs {
			kind, err := checkDocument(doc, strict, custom)
			if err != nil {
				problems++
				fmt.Printf("INVALID %s document %d (%s): %v\n", name, i+1, kind, err)
				continue
			}
			checked[kind]++
		}
	}
	kinds := make([]string, 0, len(checked))
	for kind, n := range checked {
		kinds = append(kinds, fmt.Sprintf("%s x%d", kind, n))
	}
	sort.Strings(kinds)
	fmt.Printf("valid: %s\n", strings.Join(kinds, ", "))
	if problems > 0 {
		fmt.Printf("%d invalid document(s)\n", problems)
		os.Exit(1)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "k8svalidate:", err)
	os.Exit(2)
}

// readDocuments splits a multi-document YAML file, dropping empty documents and comments.
func readDocuments(name string) ([][]byte, error) {
	var in io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		in = f
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(in))
	var docs [][]byte
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		var probe map[string]interface{}
		if err := sigsyaml.Unmarshal(doc, &probe); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if len(probe) > 0 {
			docs = append(docs, bytes.Clone(doc))
		}
	}
}

// checkDocument returns the document's kind and the first reason an API server would refuse it.
func checkDocument(doc []byte, strict runtime.Decoder, custom map[schema.GroupVersionKind]customKind) (string, error) {
	var object map[string]interface{}
	if err := sigsyaml.Unmarshal(doc, &object); err != nil {
		return "?", err
	}
	apiVersion, _ := object["apiVersion"].(string)
	kindName, _ := object["kind"].(string)
	gvk := schema.FromAPIVersionAndKind(apiVersion, kindName)
	label := apiVersion + "/" + kindName
	if scheme.Scheme.Recognizes(gvk) {
		_, _, err := strict.Decode(doc, nil, nil)
		return label, err
	}
	crd, ok := custom[gvk]
	if !ok {
		return label, fmt.Errorf("no built-in kind and no CustomResourceDefinition for %s", gvk)
	}
	if errs := validation.ValidateCustomResource(field.NewPath(""), object, crd.validator); len(errs) > 0 {
		return label, errs.ToAggregate()
	}
	opts := structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true}
	if unknown := pruning.PruneWithOptions(object, crd.structural, true, opts); len(unknown) > 0 {
		return label, fmt.Errorf("unknown field(s) the API server would drop: %s", strings.Join(unknown, ", "))
	}
	return label, nil
}

// loadCRDs reads every CRD in dir (strictly decoded themselves) and indexes its served versions.
func loadCRDs(dir string, strict runtime.Decoder, custom map[schema.GroupVersionKind]customKind) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no CRD files in %s", dir)
	}
	for _, file := range files {
		docs, err := readDocuments(file)
		if err != nil {
			return err
		}
		for _, doc := range docs {
			decoded, _, err := strict.Decode(doc, nil, nil)
			if err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			crd, ok := decoded.(*apiextensionsv1.CustomResourceDefinition)
			if !ok {
				return fmt.Errorf("%s: not a CustomResourceDefinition", file)
			}
			for _, version := range crd.Spec.Versions {
				if version.Schema == nil || version.Schema.OpenAPIV3Schema == nil {
					continue
				}
				internal := &apiextensions.JSONSchemaProps{}
				err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(
					version.Schema.OpenAPIV3Schema, internal, nil)
				if err != nil {
					return err
				}
				validator, _, err := validation.NewSchemaValidator(internal)
				if err != nil {
					return fmt.Errorf("%s %s: %w", crd.Name, version.Name, err)
				}
				structural, err := structuralschema.NewStructural(internal)
				if err != nil {
					return fmt.Errorf("%s %s: %w", crd.Name, version.Name, err)
				}
				gvk := schema.GroupVersionKind{Group: crd.Spec.Group, Version: version.Name, Kind: crd.Spec.Names.Kind}
				custom[gvk] = customKind{validator: validator, structural: structural}
			}
		}
	}
	return nil
}
