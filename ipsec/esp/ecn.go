package esp

// ECN codepoints (RFC 3168 §5) in the low two bits of TOS / traffic class.
const (
	ecnNotECT = 0
	ecnECT1   = 1
	ecnECT0   = 2
	ecnCE     = 3
	ecnMask   = 3
)

// outerTOS is the outer TOS / traffic class for an inner one: DSCP copied;
// ECN copied, CE included, in RFC 6040 normal mode (§4.1), Not-ECT in
// compatibility mode.
func outerTOS(inner uint8, normal bool) uint8 {
	if normal {
		return inner
	}
	return inner &^ ecnMask
}

// decapECN is RFC 6040 §4.2 (Figure 4): the inner ECN field after
// decapsulation, or drop when the outer is CE and the inner Not-ECT.
//
//	inner \ outer  Not-ECT  ECT(0)   ECT(1)   CE
//	Not-ECT        Not-ECT  Not-ECT  Not-ECT  drop
//	ECT(0)         ECT(0)   ECT(0)   ECT(1)   CE
//	ECT(1)         ECT(1)   ECT(1)   ECT(1)   CE
//	CE             CE       CE       CE       CE
func decapECN(outer, inner uint8) (ecn uint8, drop bool) {
	outer, inner = outer&ecnMask, inner&ecnMask
	switch {
	case inner == ecnNotECT:
		return ecnNotECT, outer == ecnCE
	case outer == ecnCE:
		return ecnCE, false
	case outer == ecnECT1 && inner == ecnECT0:
		return ecnECT1, false
	}
	return inner, false
}
