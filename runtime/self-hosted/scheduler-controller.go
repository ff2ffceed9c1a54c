// The workbook's stand-in for dapr's pkg/scheduler/server/internal/controller, written for the
// workbook (runtime/install.sh puts it in place of that package's files in its source copy).
//
// Dapr's package runs a Kubernetes controller (controller-runtime, client-go) that the scheduler
// starts only with --mode kubernetes, to drop the jobs of a deleted namespace. The workbook's
// scheduler runs on one machine (--mode standalone), so this build leaves that controller out
// and says so when Kubernetes mode is asked for. On Kubernetes, use Dapr's own images.
package controller

import (
	"context"
	"errors"

	"github.com/dapr/dapr/pkg/healthz"
	"github.com/dapr/dapr/pkg/scheduler/server/internal/cron"
)

// Options has the fields the scheduler's server passes; none is used here.
type Options struct {
	KubeConfig *string
	Healthz    healthz.Healthz
}

// Controller is never created by this build (New always fails).
type Controller struct{}

// ErrNotCompiledIn is what New returns.
var ErrNotCompiledIn = errors.New("this scheduler is the workbook's self-hosted build: " +
	"Kubernetes mode is not compiled in (use --mode standalone, or Dapr's own images on Kubernetes)")

// New fails: the Kubernetes controller is not part of this build.
func New(Options) (*Controller, error) { return nil, ErrNotCompiledIn }

// SetCron does nothing (there is no controller to hand the cron to).
func (*Controller) SetCron(cron.Interface) {}

// Run fails like New.
func (*Controller) Run(context.Context) error { return ErrNotCompiledIn }
