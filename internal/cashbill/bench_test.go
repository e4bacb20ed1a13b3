package cashbill_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
)

// vendorNTSBody is the vendor's NTS sample body without its spaces: 374 bytes.
const vendorNTSBody = `{"corpNum":"1234567890","franchiseCorpNum":"1234567890","itemKey":"022122116191200001","tradeDate":"20221221","confirmNum":"TB0001146","ntssendDT":"20221222000000","ntsresultDT":"20221222100033","ntsresultCode":"0000","stateCode":304,"stateDT":"20221221161912","issueDT":"20221221161912","mgtKey":"20221221-001","eventDT":"20221222100033","eventType":"NTS","interOPYN":true}`

// BenchmarkParse measures parsing and validating the vendor's NTS sample body
// and every body in events/ (refused ones included), with Parse and with the
// encoding/json parser it replaced.
func BenchmarkParse(b *testing.B) {
	bodies := eventBodies(b)
	bodies["vendor-nts-sample"] = []byte(vendorNTSBody)
	parsers := []struct {
		name  string
		parse func([]byte) (cashbill.Event, error)
	}{{"Parse", cashbill.Parse}, {"encoding-json-oracle", oracleParse}}
	for _, name := range slices.Sorted(maps.Keys(bodies)) {
		body := bodies[name]
		_, wantErr := oracleParse(body)
		for _, p := range parsers {
			b.Run("body="+name+"/parser="+p.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(body)))
				for b.Loop() {
					if _, err := p.parse(body); (err == nil) != (wantErr == nil) {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
