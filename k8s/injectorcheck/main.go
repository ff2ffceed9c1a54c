// Command injectorcheck runs the Dapr sidecar injector's own patcher (package
// github.com/dapr/dapr/pkg/injector/patcher, the code the injector's admission webhook calls) on
// the pod templates of the Deployments and Jobs it is given, offline, and prints each pod as the
// injector would admit it: multi-document YAML, for k8svalidate and tests/k8s.
//
// It is built inside a copy of the github.com/dapr/dapr module at the pinned runtime version (so
// with that module's own go.mod and go.sum): `bash k8s/k8s.sh tools` copies it there.
//
// Usage: injectorcheck [-namespace NS] [-control-plane-namespace NS] -sidecar-image IMAGE FILE...
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	injectorConsts "github.com/dapr/dapr/pkg/injector/consts"
	"github.com/dapr/dapr/pkg/injector/patcher"
)

func main() {
	namespace := flag.String("namespace", "default", "the namespace the pods run in")
	controlPlane := flag.String("control-plane-namespace", "dapr-system", "Dapr's namespace")
	image := flag.String("sidecar-image", "", "the daprd image (the injector's SIDECAR_IMAGE)")
	flag.Parse()
	if *image == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: injectorcheck -sidecar-image IMAGE FILE...")
		os.Exit(2)
	}
	for _, name := range flag.Args() {
		templates, err := podTemplates(name)
		if err != nil {
			fail(err)
		}
		owners := make([]string, 0, len(templates))
		for owner := range templates {
			owners = append(owners, owner)
		}
		sort.Strings(owners)
		for _, owner := range owners {
			pod, err := inject(owner, templates[owner], *namespace, *controlPlane, *image)
			if err != nil {
				fail(fmt.Errorf("%s %s: %w", name, owner, err))
			}
			out, err := yaml.Marshal(pod)
			if err != nil {
				fail(err)
			}
			fmt.Printf("---\n# injected: %s\n%s", owner, out)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "injectorcheck:", err)
	os.Exit(1)
}

// podTemplates returns the pod template of every Deployment and Job in a file, by "Kind/name".
func podTemplates(name string) (map[string]corev1.PodTemplateSpec, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	found := map[string]corev1.PodTemplateSpec{}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(f))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return found, nil
		}
		if err != nil {
			return nil, err
		}
		var head struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			return nil, err
		}
		switch head.Kind {
		case "Deployment":
			var d appsv1.Deployment
			if err := yaml.UnmarshalStrict(doc, &d); err != nil {
				return nil, err
			}
			found["Deployment/"+d.Name] = d.Spec.Template
		case "Job":
			var j batchv1.Job
			if err := yaml.UnmarshalStrict(doc, &j); err != nil {
				return nil, err
			}
			found["Job/"+j.Name] = j.Spec.Template
		}
	}
}

// inject sets what the injector's webhook sets from its own configuration (pkg/injector/service,
// with the chart's defaults), then lets the patcher read the pod's annotations and patch it.
func inject(owner string, template corev1.PodTemplateSpec, namespace, controlPlane, image string) (*corev1.Pod, error) {
	pod := &corev1.Pod{ObjectMeta: template.ObjectMeta, Spec: template.Spec}
	pod.APIVersion, pod.Kind = "v1", "Pod"
	pod.Name, pod.Namespace = "example-"+pod.Labels["app"], namespace
	account := pod.Spec.ServiceAccountName
	if account == "" {
		account = "default"
	}
	const clusterDomain = "cluster.local"
	sidecar := patcher.NewSidecarConfig(pod)
	sidecar.Mode = injectorConsts.ModeKubernetes
	sidecar.Namespace = namespace
	sidecar.MTLSEnabled = true
	sidecar.Identity = namespace + ":" + account
	sidecar.ImagePullPolicy = corev1.PullIfNotPresent
	sidecar.OperatorAddress = patcher.ServiceAPI.Address(controlPlane, clusterDomain)
	sidecar.SentryAddress = patcher.ServiceSentry.Address(controlPlane, clusterDomain)
	sidecar.ControlPlaneNamespace = controlPlane
	sidecar.ControlPlaneTrustDomain = clusterDomain
	sidecar.SentrySPIFFEID = "spiffe://" + clusterDomain + "/ns/" + controlPlane + "/dapr-sentry"
	sidecar.CurrentTrustAnchors = []byte("-----BEGIN CERTIFICATE-----\n(the cluster's trust bundle)\n-----END CERTIFICATE-----\n")
	sidecar.KubeClusterDomain = clusterDomain
	sidecar.SchedulerEnabled = true
	sidecar.PlacementAddress = patcher.ServicePlacement.Address(controlPlane, clusterDomain)
	sidecar.SidecarImage = image
	sidecar.SetFromPodAnnotations()
	patch, err := sidecar.GetPatch()
	if err != nil {
		return nil, err
	}
	if len(patch) == 0 {
		return nil, fmt.Errorf("the injector would not patch %s (dapr.io/enabled?)", owner)
	}
	raw, err := yaml.Marshal(pod)
	if err != nil {
		return nil, err
	}
	asJSON, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return nil, err
	}
	patched, err := patch.Apply(asJSON)
	if err != nil {
		return nil, err
	}
	out := &corev1.Pod{}
	if err := yaml.UnmarshalStrict(patched, out); err != nil {
		return nil, err
	}
	return out, nil
}
