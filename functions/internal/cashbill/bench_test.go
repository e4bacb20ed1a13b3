package cashbill_test

import (
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/functions/internal/cashbill"
)

// BenchmarkParse measures parsing and validating the vendor's NTS sample body.
func BenchmarkParse(b *testing.B) {
	body := []byte(`{"corpNum":"1234567890","franchiseCorpNum":"1234567890","itemKey":"022122116191200001","tradeDate":"20221221","confirmNum":"TB0001146","ntssendDT":"20221222000000","ntsresultDT":"20221222100033","ntsresultCode":"0000","stateCode":304,"stateDT":"20221221161912","issueDT":"20221221161912","mgtKey":"20221221-001","eventDT":"20221222100033","eventType":"NTS","interOPYN":true}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := cashbill.Parse(body); err != nil {
			b.Fatal(err)
		}
	}
}
