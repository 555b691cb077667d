// Renders an ApplicationSet template for one set of generator parameters with the engine the ApplicationSet
// controller uses when goTemplate is on: Go's text/template, executed on every string of the template with the
// ApplicationSet's goTemplateOptions (argo-cd applicationset/utils/utils.go RenderTemplateParams walks the template and
// Replace parses and executes each string; not copied). The controller adds sprig's functions; Debian packages none,
// so a template that calls one fails to parse here, naming it, and the template this project uses calls none.
// ApplicationSetRendering (Deploy.Tests) builds and runs it, offline, with the standard library only.
//
// stdin: {"template": <any JSON>, "params": {...}, "options": ["missingkey=error"]}
// stdout: the template with every string rendered; exit 1 with the error on stderr when one fails.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"text/template"
)

type request struct {
	Template interface{}            `json:"template"`
	Params   map[string]interface{} `json:"params"`
	Options  []string               `json:"options"`
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, "render: stdin is not a request:", err)
		os.Exit(2)
	}
	out, err := render(req.Template, req)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}

func render(node interface{}, req request) (interface{}, error) {
	switch value := node.(type) {
	case string:
		t, err := template.New("").Option(req.Options...).Parse(value)
		if err != nil {
			return nil, fmt.Errorf("failed to parse template %s: %w", value, err)
		}
		var buffer bytes.Buffer
		if err := t.Execute(&buffer, req.Params); err != nil {
			return nil, fmt.Errorf("failed to execute go template %s: %w", value, err)
		}
		return buffer.String(), nil
	case map[string]interface{}:
		result := map[string]interface{}{}
		for key, child := range value {
			rendered, err := render(child, req)
			if err != nil {
				return nil, err
			}
			result[key] = rendered
		}
		return result, nil
	case []interface{}:
		result := make([]interface{}, 0, len(value))
		for _, child := range value {
			rendered, err := render(child, req)
			if err != nil {
				return nil, err
			}
			result = append(result, rendered)
		}
		return result, nil
	default:
		return value, nil
	}
}
