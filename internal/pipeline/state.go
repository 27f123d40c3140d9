package pipeline

// State is a pipeline's @pipelineState.
type State string

// Pipeline states. A new pipeline is PENDING; ActivatePipeline makes it
// SCHEDULED and DeactivatePipeline INACTIVE. FINISHED is reached when every
// scheduled run is complete.
const (
	StatePending      State = "PENDING"
	StateScheduled    State = "SCHEDULED"
	StateDeactivating State = "DEACTIVATING"
	StateInactive     State = "INACTIVE"
	StateFinished     State = "FINISHED"
)

// Sphere is the @sphere of an object: where it sits in the lifecycle.
type Sphere string

// Spheres. Components give rise to instances, which execute attempts.
const (
	SphereComponent Sphere = "COMPONENT"
	SphereInstance  Sphere = "INSTANCE"
	SphereAttempt   Sphere = "ATTEMPT"
	SpherePipeline  Sphere = "PIPELINE"
)

// ParseSphere returns the sphere named s, reporting false for an unknown
// name. Matching is exact, as AWS documents the sphere in upper case.
func ParseSphere(s string) (Sphere, bool) {
	switch sp := Sphere(s); sp {
	case SphereComponent, SphereInstance, SphereAttempt:
		return sp, true
	}
	return "", false
}
