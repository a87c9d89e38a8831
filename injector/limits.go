package injector

import (
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// The API server checks an injected pod against two kinds of limits after
// every mutating webhook, so failurePolicy: Ignore cannot save a pod that
// breaks them: the LimitRanges of its namespace (LimitRanger, which checks
// each container and the pod as a whole) and its own pod-level resources
// (spec.resources, which its containers must fit into). The functions here
// model those checks for the sidecar.

// bound is one LimitRange value and the LimitRange it comes from.
type bound struct {
	value resource.Quantity
	from  string
}

// containerBounds are the tightest Container limits the namespace's
// LimitRanges set on one resource; nil where none does.
type containerBounds struct {
	min, max, ratio *bound
}

// collectContainerBounds gathers the Container limits of ranges by
// resource, and returns the resources in a fixed order.
func collectContainerBounds(ranges []corev1.LimitRange) (map[corev1.ResourceName]*containerBounds, []corev1.ResourceName) {
	out := map[corev1.ResourceName]*containerBounds{}
	tighten := func(dst **bound, name string, q resource.Quantity, tighter int) {
		if *dst == nil || q.Cmp((*dst).value) == tighter {
			*dst = &bound{value: q, from: name}
		}
	}
	for i := range ranges {
		for _, item := range ranges[i].Spec.Limits {
			if item.Type != corev1.LimitTypeContainer {
				continue
			}
			get := func(r corev1.ResourceName) *containerBounds {
				if out[r] == nil {
					out[r] = &containerBounds{}
				}
				return out[r]
			}
			for r, q := range item.Min {
				tighten(&get(r).min, ranges[i].Name, q, 1)
			}
			for r, q := range item.Max {
				tighten(&get(r).max, ranges[i].Name, q, -1)
			}
			for r, q := range item.MaxLimitRequestRatio {
				tighten(&get(r).ratio, ranges[i].Name, q, -1)
			}
		}
	}
	names := make([]corev1.ResourceName, 0, len(out))
	for r := range out {
		names = append(names, r)
	}
	slices.Sort(names)
	return out, names
}

// fitLimitRanges fits the sidecar's requests and limits r to the Container
// limits of the namespace's LimitRanges, as LimitRanger checks them: a
// request (a missing one counts as its limit, as the API server defaults
// it) and a limit at least the minimum, at most the maximum, and a limit at
// most maxLimitRequestRatio times the request. It only raises: a request or
// limit below a minimum is raised to it, a request too small for the ratio
// is raised to the limit divided by it, and a missing limit under a maximum
// becomes the maximum. It never lowers what the config sized the sidecar
// with (below its limits it is killed): above a maximum it returns why the
// pod cannot be injected. It returns a warning per resource it changed.
func fitLimitRanges(r *corev1.ResourceRequirements, ranges []corev1.LimitRange) ([]string, string) {
	bounds, names := collectContainerBounds(ranges)
	var warnings []string
	for _, name := range names {
		before := *r.DeepCopy()
		from, refusal := fitResource(r, name, bounds[name])
		if refusal != "" {
			return nil, refusal
		}
		if len(from) > 0 {
			warnings = append(warnings, describeFit(name, before, *r, from))
		}
	}
	return warnings, ""
}

// fitResource fits one resource of r into b and returns the LimitRanges
// that made it change anything, or why it cannot fit.
func fitResource(r *corev1.ResourceRequirements, name corev1.ResourceName, b *containerBounds) ([]string, string) {
	request, hasRequest := r.Requests[name]
	limit, hasLimit := r.Limits[name]
	if !hasRequest && hasLimit {
		request, hasRequest = limit.DeepCopy(), true
	}
	var from []string
	changed := func(b *bound) { from = appendNew(from, b.from) }
	if b.min != nil {
		if !hasRequest || request.Cmp(b.min.value) < 0 {
			request, hasRequest = b.min.value.DeepCopy(), true
			changed(b.min)
		}
		if hasLimit && limit.Cmp(b.min.value) < 0 {
			limit = b.min.value.DeepCopy()
			changed(b.min)
		}
	}
	if b.max != nil {
		switch {
		case hasLimit && limit.Cmp(b.max.value) > 0:
			return nil, fmt.Sprintf("the sidecar's %s limit %s is above the maximum %s per container of LimitRange %q", name, limit.String(), b.max.value.String(), b.max.from)
		case hasRequest && request.Cmp(b.max.value) > 0:
			return nil, fmt.Sprintf("the sidecar's %s request %s is above the maximum %s per container of LimitRange %q", name, request.String(), b.max.value.String(), b.max.from)
		case !hasLimit:
			limit, hasLimit = b.max.value.DeepCopy(), true
			changed(b.max)
		}
	}
	if b.ratio != nil {
		if !hasLimit || limit.IsZero() {
			return nil, fmt.Sprintf("the sidecar has no %s limit, which the maximum limit-to-request ratio %s per container of LimitRange %q requires", name, ratioText(b.ratio.value), b.ratio.from)
		}
		if !hasRequest || exceedsRatio(request, limit, b.ratio.value) {
			request, hasRequest = ratioRequest(name, limit, b.ratio.value), true
			changed(b.ratio)
		}
	}
	if hasRequest {
		setQuantity(&r.Requests, name, request)
	}
	if hasLimit {
		setQuantity(&r.Limits, name, limit)
	}
	return from, ""
}

// exceedsRatio reports whether limit/request is above ratio, computed as
// LimitRanger does (in thousandths where nothing overflows, in floating
// point), so that what passes here passes there.
func exceedsRatio(request, limit, ratio resource.Quantity) bool {
	req, lim := request.Value(), limit.Value()
	if req <= resource.MaxMilliValue && lim <= resource.MaxMilliValue && ratio.Value() <= resource.MaxMilliValue {
		req, lim = request.MilliValue(), limit.MilliValue()
	}
	if req == 0 || lim == 0 {
		return true
	}
	observed, most := float64(lim)/float64(req), float64(ratio.Value())
	if ratio.Value() <= resource.MaxMilliValue {
		observed, most = observed*1000, float64(ratio.MilliValue())
	}
	return observed > most
}

// ratioRequest is the smallest request that keeps limit within ratio times
// it: limit/ratio rounded up to a thousandth of a cpu, or to a whole unit
// of other resources. The ratio is at least 1 (LimitRange validation), so
// the request never exceeds the limit.
func ratioRequest(name corev1.ResourceName, limit, ratio resource.Quantity) resource.Quantity {
	quotient := new(big.Rat).Quo(quantityRat(limit), quantityRat(ratio))
	step := int64(1000)
	if name == corev1.ResourceCPU {
		step = 1
	}
	milli := new(big.Rat).Mul(quotient, big.NewRat(1000/step, 1))
	n := new(big.Int).Quo(milli.Num(), milli.Denom())
	if new(big.Rat).SetInt(n).Cmp(milli) < 0 {
		n.Add(n, big.NewInt(1))
	}
	request := *resource.NewMilliQuantity(n.Int64()*step, limit.Format)
	for exceedsRatio(request, limit, ratio) && request.Cmp(limit) < 0 {
		request.Add(*resource.NewMilliQuantity(step, limit.Format))
	}
	return request
}

// quantityRat is q's exact value.
func quantityRat(q resource.Quantity) *big.Rat {
	d := q.AsDec()
	v := new(big.Rat).SetInt(d.UnscaledBig())
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(int32(d.Scale())))), nil)
	if d.Scale() > 0 {
		return v.Quo(v, new(big.Rat).SetInt(scale))
	}
	return v.Mul(v, new(big.Rat).SetInt(scale))
}

// ratioText renders a ratio as a plain number ("1.5", not "1500m").
func ratioText(q resource.Quantity) string {
	return strconv.FormatFloat(q.AsApproximateFloat64(), 'f', -1, 64)
}

func abs(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}

// describeFit is the warning for a resource fitLimitRanges changed.
func describeFit(name corev1.ResourceName, before, after corev1.ResourceRequirements, from []string) string {
	var changes []string
	for _, side := range []struct {
		what          string
		before, after corev1.ResourceList
	}{{"request", before.Requests, after.Requests}, {"limit", before.Limits, after.Limits}} {
		was, had := side.before[name]
		now, has := side.after[name]
		switch {
		case !has:
		case !had:
			changes = append(changes, fmt.Sprintf("its %s %s (none configured)", side.what, now.String()))
		case was.Cmp(now) != 0:
			changes = append(changes, fmt.Sprintf("its %s %s instead of %s", side.what, now.String(), was.String()))
		}
	}
	quoted := make([]string, len(from))
	for i, f := range from {
		quoted[i] = fmt.Sprintf("%q", f)
	}
	return fmt.Sprintf("the sidecar's %s is adjusted to the namespace's LimitRange %s: %s", name, strings.Join(quoted, ", "), strings.Join(changes, " and "))
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
