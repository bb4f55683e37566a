package reports

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Event is a succeeded write of the activity log, as the rogue report
// reads it.
type Event struct {
	// Caller is the event's caller; PrincipalID and AppID its oid and
	// appid claims.
	Caller, PrincipalID, AppID string
	Action                     string
	ResourceID                 string
	CorrelationID              string
	Time                       time.Time
}

// RogueOptions name the approved paths.
type RogueOptions struct {
	// Pipelines are the principals (object IDs, application IDs or caller
	// names) of approved deployment pipelines.
	Pipelines []string
	// TemplateHashes are the templateHash values of approved templates: a
	// resource written by a deployment of one of them is approved.
	TemplateHashes []string
	// GoldenImages are the approved image versions (gallery image version
	// IDs, .../galleries/G/images/D/versions/V); per image definition the
	// highest version is the one VMs must run.
	GoldenImages []string
}

// Rogue finds the resources not created through an approved path and the
// virtual machines not on the latest approved golden image.
//
// A resource's creation is its first succeeded write in events. It is
// approved when its caller is a listed pipeline, or when it was written
// by a deployment (same correlation ID, or listed in the deployment's
// outputResources) whose templateHash is approved. Resources without a
// write in events were created before the log's window: their origin is
// unknown, which is a finding too, not a pass. deployments are the
// Microsoft.Resources/deployments documents (properties.templateHash,
// correlationId, outputResources).
func Rogue(resources []map[string]any, events []Event, deployments []map[string]any, opt RogueOptions) []Finding {
	pipelines := lowerSet(opt.Pipelines)
	hashes := lowerSet(opt.TemplateHashes)
	depByCorrelation := map[string]*deployment{}
	depByOutput := map[string]*deployment{}
	for _, d := range deployments {
		id, _ := d["id"].(string)
		p, _ := d["properties"].(map[string]any)
		h, _ := p["templateHash"].(string)
		x := &deployment{id: id, hash: h, approved: h != "" && hashes[strings.ToLower(h)]}
		if c, _ := p["correlationId"].(string); c != "" {
			depByCorrelation[strings.ToLower(c)] = x
		}
		outs, _ := p["outputResources"].([]any)
		for _, o := range outs {
			om, _ := o.(map[string]any)
			if oid, _ := om["id"].(string); oid != "" {
				depByOutput[strings.ToLower(oid)] = x
			}
		}
	}
	first := map[string]*Event{}
	for i := range events {
		e := &events[i]
		if !strings.HasSuffix(strings.ToLower(e.Action), "/write") {
			continue
		}
		k := strings.ToLower(strings.TrimRight(e.ResourceID, "/"))
		if f, ok := first[k]; !ok || e.Time.Before(f.Time) {
			first[k] = e
		}
	}
	golden := goldenLatest(opt.GoldenImages)
	var out []Finding
	for _, r := range resources {
		id, _ := r["id"].(string)
		typ, _ := r["type"].(string)
		lt := strings.ToLower(typ)
		// Deployments, groups and authorization objects (role assignments,
		// locks, policy assignments) are how things are deployed and
		// governed, not what is deployed.
		if id == "" || lt == "microsoft.resources/deployments" || lt == "microsoft.resources/resourcegroups" || strings.HasPrefix(lt, "microsoft.authorization/") {
			continue
		}
		k := strings.ToLower(id)
		if f := checkOrigin(id, first[k], pipelines, depByCorrelation, depByOutput[k]); f != nil {
			out = append(out, *f)
		}
		if lt == typeVM && len(opt.GoldenImages) > 0 {
			if f := checkImage(id, r, golden); f != nil {
				out = append(out, *f)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ResourceID < out[j].ResourceID })
	return out
}

// deployment is a template deployment as the rogue report reads it.
type deployment struct {
	id, hash string
	approved bool
}

// checkOrigin judges how resource id was created: by a pipeline, by a
// deployment of an approved template, or otherwise (a finding).
func checkOrigin(id string, created *Event, pipelines map[string]bool, byCorrelation map[string]*deployment, output *deployment) *Finding {
	if output != nil && output.approved {
		return nil
	}
	if created == nil {
		return &Finding{Report: "rogue", Kind: "UnknownOrigin", Severity: Low, ResourceID: id,
			Message: "has no creating write in the activity log read (created before its window): its origin cannot be checked"}
	}
	for _, who := range []string{created.Caller, created.PrincipalID, created.AppID} {
		if who != "" && pipelines[strings.ToLower(who)] {
			return nil
		}
	}
	d := byCorrelation[strings.ToLower(created.CorrelationID)]
	if d == nil {
		d = output
	}
	if d != nil && d.approved {
		return nil
	}
	details := map[string]any{"createdBy": created.Caller, "createdAt": created.Time.UTC().Format(time.RFC3339), "correlationId": created.CorrelationID}
	msg := fmt.Sprintf("was created by %s outside an approved path (not a listed pipeline principal, not a deployment of an approved template)", created.Caller)
	if d != nil {
		details["deployment"], details["templateHash"] = d.id, d.hash
		msg = fmt.Sprintf("was created by deployment %s of template hash %s, which is not an approved template, by %s", lastSegment(d.id), d.hash, created.Caller)
	}
	return &Finding{Report: "rogue", Kind: "RogueResource", Severity: High, ResourceID: id, Message: msg, Details: details}
}

// goldenLatest maps each approved image definition (lower case) to its
// highest approved version.
func goldenLatest(versions []string) map[string]string {
	out := map[string]string{}
	for _, v := range versions {
		def, ver, ok := splitImageVersion(v)
		if !ok {
			continue
		}
		if cur, ok := out[def]; !ok || compareVersions(ver, cur) > 0 {
			out[def] = ver
		}
	}
	return out
}

// splitImageVersion splits ".../images/D/versions/V" into the definition
// ID (lower case) and V.
func splitImageVersion(id string) (def, version string, ok bool) {
	l := strings.ToLower(strings.TrimRight(id, "/"))
	i := strings.LastIndex(l, "/versions/")
	if i < 0 || !strings.Contains(l[:i], "/images/") {
		return l, "", strings.Contains(l, "/images/")
	}
	return l[:i], l[i+len("/versions/"):], true
}

// compareVersions compares dotted image versions (Major.Minor.Patch)
// numerically.
func compareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(pa), len(pb)); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// checkImage judges a VM's image: from an approved image definition, at
// its latest approved version. A reference to the definition without a
// version is read through storageProfile.imageReference.exactVersion,
// the version the VM was built from.
func checkImage(id string, vm map[string]any, golden map[string]string) *Finding {
	props, _ := vm["properties"].(map[string]any)
	sp, _ := props["storageProfile"].(map[string]any)
	ref, _ := sp["imageReference"].(map[string]any)
	imageID, _ := ref["id"].(string)
	if imageID == "" {
		if cg, _ := ref["communityGalleryImageId"].(string); cg != "" {
			imageID = cg
		} else if sg, _ := ref["sharedGalleryImageId"].(string); sg != "" {
			imageID = sg
		}
	}
	describe := imageID
	if describe == "" {
		parts := []string{}
		for _, k := range []string{"publisher", "offer", "sku", "version"} {
			if v, _ := ref[k].(string); v != "" {
				parts = append(parts, v)
			}
		}
		describe = strings.Join(parts, ":")
		if describe == "" {
			describe = "no image reference"
		}
	}
	def, ver, ok := splitImageVersion(imageID)
	latest, approved := golden[def]
	if !ok || !approved {
		return &Finding{Report: "rogue", Kind: "NotGoldenImage", Severity: Medium, ResourceID: id,
			Message: fmt.Sprintf("runs image %s, which is not an approved golden image", describe),
			Details: map[string]any{"image": describe}}
	}
	if ver == "" || ver == "latest" {
		ver, _ = ref["exactVersion"].(string)
	}
	if ver == "" {
		return &Finding{Report: "rogue", Kind: "OutdatedGoldenImage", Severity: Medium, ResourceID: id,
			Message: fmt.Sprintf("runs golden image %s at an unknown version (no exactVersion); the latest approved is %s", lastSegment(def), latest),
			Details: map[string]any{"image": def, "latestApproved": latest}}
	}
	if c := compareVersions(ver, latest); c > 0 {
		return &Finding{Report: "rogue", Kind: "NotGoldenImage", Severity: Medium, ResourceID: id,
			Message: fmt.Sprintf("runs image %s version %s, a version that is not approved (the latest approved is %s)", lastSegment(def), ver, latest),
			Details: map[string]any{"image": def, "version": ver, "latestApproved": latest}}
	} else if c < 0 {
		return &Finding{Report: "rogue", Kind: "OutdatedGoldenImage", Severity: Medium, ResourceID: id,
			Message: fmt.Sprintf("runs golden image %s version %s; the latest approved is %s", lastSegment(def), ver, latest),
			Details: map[string]any{"image": def, "version": ver, "latestApproved": latest}}
	}
	return nil
}

func lastSegment(id string) string { return id[strings.LastIndexByte(id, '/')+1:] }

func lowerSet(list []string) map[string]bool {
	out := make(map[string]bool, len(list))
	for _, s := range list {
		out[strings.ToLower(strings.TrimSpace(s))] = true
	}
	return out
}
