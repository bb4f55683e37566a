package server

import (
	"fmt"

	"github.com/steward-gov/steward/internal/cloud"
)

// ARM's throttling is Azure's (cloud.DefaultRateLimits: per principal,
// reads 250 with 25/s refill, writes and deletes 200 with 10/s). The
// armRateLimits section of the configuration replaces those buckets, and
// STEWARD_ARM_THROTTLING=off turns throttling off (the x-ms-ratelimit
// headers are still sent): for load tests and busy CI pipelines that are
// not testing their own retry logic.

func init() {
	envVars = append(envVars,
		struct {
			name string
			set  func(c *Config, v string) error
		}{"STEWARD_ARM_THROTTLING", func(c *Config, v string) error {
			if v != "on" && v != "off" {
				return fmt.Errorf("STEWARD_ARM_THROTTLING=%q: want on or off", v)
			}
			on := v == "on"
			limits := cloud.DefaultRateLimits()
			if c.ARMRateLimits != nil {
				limits = *c.ARMRateLimits
			}
			limits.Disabled = !on
			c.ARMRateLimits = &limits
			return nil
		}},
	)
}

// armRateLimits are the buckets the management API throttles with.
func (c Config) armRateLimits() *cloud.RateLimits {
	if c.ARMRateLimits == nil {
		return nil // cloud's default: Azure's figures
	}
	return c.ARMRateLimits
}
