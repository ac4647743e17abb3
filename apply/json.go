package apply

import (
	"io"

	"nixvirt.dev/nixvirt/compiler"
	"nixvirt.dev/nixvirt/internal/jsondoc"
)

// The JSON documents are their own types, not the planner's, so that the
// format changes only on purpose. Lists are never null.

type jsonPlan struct {
	FormatVersion string             `json:"format_version"`
	Changes       []jsonChange       `json:"changes"`
	Unmanaged     []jsonUnmanaged    `json:"unmanaged"`
	Kept          []jsonKept         `json:"kept"`
	Errors        []compiler.Problem `json:"errors"`
	Summary       jsonSummary        `json:"summary"`
}

type jsonSummary struct {
	Add     int `json:"add"`
	Change  int `json:"change"`
	Destroy int `json:"destroy"`
}

type jsonObject struct {
	Connection string `json:"connection"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
}

type jsonUnmanaged struct {
	jsonObject
	Owner  string `json:"owner,omitempty"`
	CopyOf string `json:"copy_of,omitempty"`
}

// jsonKept are the objects of a kind the configuration leaves out, which
// its owner has and keeps (Plan.Kept).
type jsonKept struct {
	Connection string   `json:"connection"`
	Kind       string   `json:"kind"`
	Names      []string `json:"names"`
}

type jsonChange struct {
	jsonObject
	UUID    string       `json:"uuid,omitempty"`
	Parts   []jsonPart   `json:"parts"`
	Actions []jsonAction `json:"actions"`
	Before  string       `json:"before,omitempty"`
	After   string       `json:"after,omitempty"`
	Diff    string       `json:"diff,omitempty"`
	Problem *jsonProblem `json:"problem,omitempty"`
	// VolumeProblems are a pool's volumes that cannot be planned.
	VolumeProblems []jsonVolumeProblem `json:"volume_problems,omitempty"`
}

type jsonVolumeProblem struct {
	Volume string `json:"volume"`
	jsonProblem
}

type jsonAction struct {
	Action      string       `json:"action"`
	Reasons     []jsonReason `json:"reasons"`
	On          *bool        `json:"on,omitempty"`
	Volume      string       `json:"volume,omitempty"`
	DeleteNvram bool         `json:"delete_nvram,omitempty"`
	DeleteTPM   bool         `json:"delete_tpm,omitempty"`
	Capacity    uint64       `json:"capacity,omitempty"`
	Content     string       `json:"content,omitempty"`
}

type jsonReason struct {
	Code   string `json:"code"`
	Name   string `json:"name,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// jsonPart is one classified difference of a running object's
// definition (livechanges.go).
type jsonPart struct {
	Class     string `json:"class"`
	Path      string `json:"path"`
	Reason    string `json:"reason,omitempty"`
	Operation string `json:"operation,omitempty"`
	Pending   bool   `json:"pending"`
}

type jsonProblem struct {
	Code    string      `json:"code"`
	Detail  string      `json:"detail,omitempty"`
	Holder  *jsonHolder `json:"holder,omitempty"`
	Message string      `json:"message"`
}

// jsonHolder is who owns the object in an entry's way (Problem.Holder).
type jsonHolder struct {
	Owner             string `json:"owner"`
	StateDir          string `json:"state_dir,omitempty"`
	ThisConfiguration bool   `json:"this_configuration,omitempty"`
	Name              string `json:"name,omitempty"`
}

func problemDocument(p Problem, message string) jsonProblem {
	out := jsonProblem{Code: string(p.Code), Detail: p.Detail, Message: message}
	if h := p.Holder; h != nil {
		out.Holder = &jsonHolder{h.Owner, h.StateDir, h.Own, h.Name}
	}
	return out
}

type jsonApply struct {
	jsonPlan
	Applied  jsonApplied   `json:"applied"`
	Failures []jsonFailure `json:"failures"`
	// Addresses are those of the domains apply waited for (waitFor).
	Addresses []jsonAddresses `json:"addresses"`
}

type jsonAddresses struct {
	Connection string          `json:"connection"`
	Name       string          `json:"name"`
	Interfaces []jsonInterface `json:"interfaces"`
}

type jsonInterface struct {
	MAC       string   `json:"mac"`
	Addresses []string `json:"addresses"`
}

type jsonApplied struct {
	Added     int `json:"added"`
	Changed   int `json:"changed"`
	Destroyed int `json:"destroyed"`
	Failed    int `json:"failed"`
}

type jsonFailure struct {
	Connection  string       `json:"connection"`
	Kind        string       `json:"kind,omitempty"`
	Name        string       `json:"name,omitempty"`
	Problem     *jsonProblem `json:"problem,omitempty"`
	Interrupted bool         `json:"interrupted,omitempty"`
	Abandoned   bool         `json:"abandoned,omitempty"`
	Operation   string       `json:"operation,omitempty"`
	Message     string       `json:"message"`
}

func planDocument(p *Plan, errs []compiler.Problem) jsonPlan {
	add, change, destroy := p.Counts()
	out := jsonPlan{FormatVersion: jsondoc.FormatVersion, Changes: []jsonChange{}, Unmanaged: []jsonUnmanaged{}, Kept: []jsonKept{},
		Errors: []compiler.Problem{}, Summary: jsonSummary{add, change, destroy}}
	for _, c := range p.Changes {
		jc := jsonChange{jsonObject: jsonObject{c.Connection, string(c.Kind), c.Name}, UUID: c.UUID,
			Actions: []jsonAction{}, Before: c.Before, After: c.After, Diff: c.Diff, Parts: []jsonPart{}}
		for _, p := range c.Parts {
			jc.Parts = append(jc.Parts, jsonPart{PartClass(p), p.Path, p.Reason, string(p.Op), p.Pending})
		}
		for _, s := range c.Actions {
			ja := jsonAction{Action: string(s.Action), Reasons: []jsonReason{}, On: s.On, Volume: s.Volume,
				DeleteNvram: s.DeleteNvram, DeleteTPM: s.DeleteTPM, Capacity: s.Capacity, Content: s.Content}
			for _, r := range s.Reasons {
				ja.Reasons = append(ja.Reasons, jsonReason{string(r.Code), r.Name, r.Detail})
			}
			jc.Actions = append(jc.Actions, ja)
		}
		if c.Problem != nil {
			jp := problemDocument(*c.Problem, ProblemText(c))
			jc.Problem = &jp
		}
		for _, vp := range c.VolumeProblems {
			jc.VolumeProblems = append(jc.VolumeProblems, jsonVolumeProblem{vp.Volume,
				problemDocument(vp.Problem, VolumeProblemText(c.Name, vp))})
		}
		out.Changes = append(out.Changes, jc)
	}
	for _, u := range p.Unmanaged {
		out.Unmanaged = append(out.Unmanaged, jsonUnmanaged{jsonObject{u.Connection, string(u.Kind), u.Name}, u.Owner, u.CopyOf})
	}
	for _, k := range p.Kept {
		out.Kept = append(out.Kept, jsonKept{k.Connection, string(k.Kind), append([]string{}, k.Names...)})
	}
	for _, e := range p.Errors {
		out.Errors = append(out.Errors, compiler.Problem{Message: e})
	}
	out.Errors = append(out.Errors, errs...)
	return out
}

// RenderJSON writes the plan as the JSON document of docs/json.md.
func RenderJSON(w io.Writer, p *Plan) error {
	return jsondoc.Write(w, planDocument(p, nil))
}

// RenderErrorsJSON writes the plan (or apply) document of a configuration
// that could not be planned: no changes, and its errors.
func RenderErrorsJSON(w io.Writer, errs []compiler.Problem) error {
	return jsondoc.Write(w, planDocument(&Plan{}, errs))
}

// RenderResultJSON writes what apply did as the JSON document of
// docs/json.md: the plan's document with what was applied and what
// failed.
func RenderResultJSON(w io.Writer, r *Result) error {
	out := jsonApply{jsonPlan: planDocument(r.Plan, nil), Failures: []jsonFailure{}, Addresses: []jsonAddresses{},
		Applied: jsonApplied{r.Added, r.Changed, r.Destroyed, len(r.Failed)}}
	for _, f := range r.Failed {
		jf := jsonFailure{Connection: f.Connection, Kind: string(f.Kind), Name: f.Name, Interrupted: f.Interrupted,
			Abandoned: f.Abandoned, Operation: f.Op, Message: f.why()}
		if f.Problem != nil {
			jp := problemDocument(*f.Problem, jf.Message)
			jf.Problem = &jp
		}
		out.Failures = append(out.Failures, jf)
	}
	for _, d := range r.Addresses {
		ja := jsonAddresses{Connection: d.Connection, Name: d.Name, Interfaces: []jsonInterface{}}
		for _, i := range d.Interfaces {
			ja.Interfaces = append(ja.Interfaces, jsonInterface{MAC: i.MAC, Addresses: append([]string{}, i.Addresses...)})
		}
		out.Addresses = append(out.Addresses, ja)
	}
	return jsondoc.Write(w, out)
}
