// Judges Argo Rollouts analysis measurements the way the controller does, with the expression engine it embeds
// (github.com/antonmedv/expr; Argo Rollouts v1.8 pins v1.15.5, Debian 12 packages v1.8.9, built here offline:
// GO111MODULE=off GOPATH=/usr/share/gocode). AnalysisOnRealPrometheusTests builds and runs it.
//
// stdin: a JSON array of measurements {"values": [...], "successCondition": "...", "failureCondition": "..."}, where
// values are the sample values of the Prometheus instant vector as its HTTP API prints them ("0.99", "NaN").
// stdout: a JSON array of {"phase": "Successful|Failed|Inconclusive|Error", "error": "..."}.
//
// What it mirrors, from argo-rollouts v1.8.3 (not copied):
//   - metricproviders/prometheus/prometheus.go processResponse: a vector becomes []float64 `result`, in order;
//   - utils/evaluate/evaluate.go EvalCondition: the environment (result, isNaN, isInf), a non-bool is an error;
//   - utils/evaluate/evaluate.go EvaluateResult: without a failureCondition, "not successful" is Failed; without a
//     successCondition, "not failed" is Successful; with both, neither holding is Inconclusive.
package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"

	"github.com/antonmedv/expr"
)

type measurement struct {
	Values           []string `json:"values"`
	SuccessCondition string   `json:"successCondition"`
	FailureCondition string   `json:"failureCondition"`
}

type verdict struct {
	Phase string `json:"phase"`
	Error string `json:"error,omitempty"`
}

func main() {
	var measurements []measurement
	if err := json.NewDecoder(os.Stdin).Decode(&measurements); err != nil {
		fmt.Fprintln(os.Stderr, "evaluate: stdin is not a JSON array of measurements:", err)
		os.Exit(2)
	}
	verdicts := make([]verdict, 0, len(measurements))
	for _, m := range measurements {
		verdicts = append(verdicts, judge(m))
	}
	if err := json.NewEncoder(os.Stdout).Encode(verdicts); err != nil {
		fmt.Fprintln(os.Stderr, "evaluate:", err)
		os.Exit(2)
	}
}

func judge(m measurement) verdict {
	result := make([]float64, 0, len(m.Values))
	for _, text := range m.Values {
		value, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return verdict{Phase: "Error", Error: err.Error()}
		}
		result = append(result, value)
	}
	success, failure := false, false
	var err error
	if m.SuccessCondition != "" {
		if success, err = condition(result, m.SuccessCondition); err != nil {
			return verdict{Phase: "Error", Error: err.Error()}
		}
	}
	if m.FailureCondition != "" {
		if failure, err = condition(result, m.FailureCondition); err != nil {
			return verdict{Phase: "Error", Error: err.Error()}
		}
	}
	switch {
	case m.SuccessCondition == "" && m.FailureCondition == "":
		return verdict{Phase: "Successful"}
	case m.FailureCondition == "":
		failure = !success
	case m.SuccessCondition == "":
		success = !failure
	}
	switch {
	case failure:
		return verdict{Phase: "Failed"}
	case !success:
		return verdict{Phase: "Inconclusive"}
	default:
		return verdict{Phase: "Successful"}
	}
}

func condition(result []float64, text string) (bool, error) {
	env := map[string]interface{}{
		"result": result,
		"isNaN":  math.IsNaN,
		"isInf":  func(f float64) bool { return math.IsInf(f, 0) },
	}
	program, err := expr.Compile(text, expr.Env(env))
	if err != nil {
		return false, err
	}
	output, err := expr.Run(program, env)
	if err != nil {
		return false, err
	}
	value, ok := output.(bool)
	if !ok {
		return false, fmt.Errorf("expected bool, but got %T", output)
	}
	return value, nil
}
