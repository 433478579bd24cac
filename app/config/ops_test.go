package config

import (
	"strings"
	"testing"
)

func TestMetricsAndDebugAddressesAreOffByDefaultAndPprofStaysOnLoopback(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.MetricsAddr != "" || c.DebugAddr != "" {
		t.Errorf("on by default: metrics %q, debug %q", c.MetricsAddr, c.DebugAddr)
	}
	c, err = Load(env(map[string]string{"METRICS_ADDR": "0.0.0.0:9100", "DEBUG_ADDR": ":6060"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.MetricsAddr != "0.0.0.0:9100" || c.DebugAddr != "127.0.0.1:6060" {
		t.Errorf("metrics %q, debug %q (want the host given, loopback when none)", c.MetricsAddr, c.DebugAddr)
	}
	for _, name := range []string{"METRICS_ADDR", "DEBUG_ADDR"} {
		_, err := Load(env(map[string]string{name: "9100"}))
		if err == nil || !strings.HasPrefix(err.Error(), name+":") {
			t.Errorf("%s=9100: %v, want an error naming it", name, err)
		}
	}
}
