// Package reliabilitytest holds the tests that prove issue 9's promise end to
// end: no NTS failure lost, no alert published twice outside the named
// windows. They drive the real webhook handler and the sweeper the way
// POPBiLL and the schedule would: the fault matrix (one injected fault per
// case, through faultproxy between the SDK and moto_server) and the storm
// (many deliveries, shuffled, duplicated, concurrent, with random faults, on
// moto and on the embedded store). docs/reliability.md reports their figures.
package reliabilitytest
