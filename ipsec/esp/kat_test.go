package esp

import (
	"crypto/aes"
	"crypto/cipher"
	"testing"

	"github.com/fastipsec/fastipsec/dataplane/hdr"
	"github.com/fastipsec/fastipsec/dataplane/stats"
	"github.com/fastipsec/fastipsec/ipsec/alg"
	"github.com/fastipsec/fastipsec/ipsec/sad"
)

// ivEngine forces the counter IV of every sealed op (the published vectors
// use IVs other than the sequence number).
type ivEngine struct {
	alg.Engine
	iv uint64
}

func (e *ivEngine) Seal(ops []alg.Op) {
	for i := range ops {
		ops[i].IVCounter = e.iv
	}
	e.Engine.Seal(ops)
}

// cbcEngine seals AES-CBC with a fixed IV and no integrity (RFC 3602 test
// cases); it stands in for the engine's random IV.
type cbcEngine struct {
	alg.Engine
	key, iv []byte
}

func (e *cbcEngine) Seal(ops []alg.Op) {
	b, _ := aes.NewCipher(e.key)
	for i := range ops {
		copy(ops[i].IV, e.iv)
		cipher.NewCBCEncrypter(b, e.iv).CryptBlocks(ops[i].Text, ops[i].Text)
		ops[i].Status = alg.OK
	}
}

// advance makes sa's next outbound sequence number seq.
func advance(t testing.TB, sa *sad.SA, seq uint64) {
	for left := seq - 1; left > 0; {
		n := min(left, 1<<62)
		if _, ok := sa.ReserveSeq(int(n)); !ok {
			t.Fatalf("cannot advance to %#x", seq)
		}
		left -= n
	}
}

// expectWindow makes sa's replay window accept seq (ESN inference included).
func expectWindow(sa *sad.SA, seq uint64) {
	if seq > 1 {
		w := sa.LockReplay()
		w.Commit(seq - 1)
		sa.UnlockReplay()
	}
}

// outer4 wraps an ESP packet (or a transport payload) in an IPv4 header.
func outer4(proto uint8, payload []byte) []byte {
	p := make([]byte, 20, 20+len(payload))
	ip := hdr.IPv4(p)
	ip.SetVersionIHL(20)
	ip.SetTotalLen(20 + len(payload))
	ip.SetTTL(64)
	ip.SetProtocol(proto)
	ip.SetSrc([4]byte{192, 0, 2, 1})
	ip.SetDst([4]byte{192, 0, 2, 2})
	ip.UpdateChecksum()
	return append(p, payload...)
}

// espVector is a published ESP packet: keys, SPI, sequence number, IV,
// the plaintext (payload, padding, pad length, next header) and the ESP
// packet (header, IV, ciphertext, ICV).
type espVector struct {
	name      string
	enc       alg.EncID
	key       string // with the salt
	spi       uint32
	seq       uint64
	esn       bool
	iv        uint64
	tunnel    bool
	plaintext string
	packet    string
}

// Vectors: draft-mcgrew-gcm-test-01 §4 (AES-GCM in ESP, next header 1 in
// all its cases, so they run in transport mode over an IPv4 header we add;
// its case with SPI 0 is left out, SPIs below 256 being reserved) and RFC
// 7634 Appendix A (ChaCha20-Poly1305, tunnel mode).
var espVectors = []espVector{
	{name: "gcm-test case 1 (AES-128, ESN)", enc: alg.EncAESGCM16, key: "4c80cdefbb5d10da906ac73c3613a634 2e443b68",
		spi: 0x4321, seq: 0x8765432100000000, esn: true, iv: 0x4956ed7e3b244cfe,
		plaintext: `45000048699a000080114db7c0a80102 c0a801010a9bf15638d3010000010000 00000000045f736970045f7564700373
			69700963796265726369747902646b00 0021000101020201`,
		packet: `00004321000000004956ed7e3b244cfe fecf537e729d5b07dc30df528dd22b76 8d1b98736696a6fd348509fa13ceac34
			cfa2436f14a3f3cf65925bf1f4a13c5d 15b21e1884f5ff6247aeabb786b93bce 61bc17d768fd9732459018148f6cbe72 2fd04796562dfdb4`},
	{name: "gcm-test case 2 (AES-128)", enc: alg.EncAESGCM16, key: "feffe9928665731c6d6a8f9467308308 cafebabe",
		spi: 0xa5f8, seq: 0xa, iv: 0xfacedbaddecaf888,
		plaintext: `4500003e698f000080114dccc0a80102 c0a801010a980035002a2343b2d00100 00010000000000000373697009637962
			65726369747902646b00000100010001`,
		packet: `0000a5f80000000afacedbaddecaf888 deb22cd9b07c72c16e3a65beeb8df304 a5a5897d33ae530f1ba76d5d114d2a5c
			3de81827c10e9a4f51330d0eec416642 cfbb85a5b47e48a4ec3b9ba95d918bd1 83b70d3aa8bc6ee4c309e9d85a41ad4a`},
	{name: "gcm-test case 3 (AES-256)", enc: alg.EncAESGCM16, key: "abbccddef00112233445566778899aababbccddef00112233445566778899aab 11223344",
		spi: 0x4a2cbfe3, seq: 2, iv: 0x0102030405060708,
		plaintext: `4500003069a6400080062690c0a80102 9389155e0a9e008b2dc57ee000000000 7002400020bf0000020405b401010402 01020201`,
		packet: `4a2cbfe3000000020102030405060708 ff425c9b724599df7a3bcd510194e00d 6a78107f1b0b1cbf06efae9d65a5d763
			748a637985771d347f0545659f14e99d ef842d8eb335f4eecfdbf831824b4c49 15956c96`},
	{name: "gcm-test case 5 (AES-128, ESN)", enc: alg.EncAESGCM16, key: "3de09874b388e6491988d0c3607eae1f 57690e43",
		spi: 0x42f67e3f, seq: 0x1010101010101010, esn: true, iv: 0x4e280000a2fca1a3,
		plaintext: `4500003c99c300008001cb7c40679318 010101010800085c0200430061626364 65666768696a6b6c6d6e6f7071727374
			75767761626364656667686901020201`,
		packet: `42f67e3f101010104e280000a2fca1a3 fba2caa4853cf9f0f22cb10d86dd83b0 fec75691cf1a04b00d1138ec9c357917
			65acbd8701ad79845bf9fe3fba487bc9 1755e6662b4c8d0d1f5e22739530320a e0d731cc978ecafaeae88f00e80d6e48`},
	{name: "gcm-test case 6 (AES-128, ESN)", enc: alg.EncAESGCM16, key: "3de09874b388e6491988d0c3607eae1f 57690e43",
		spi: 0x42f67e3f, seq: 0x1010101010101010, esn: true, iv: 0x4e280000a2fca1a3,
		plaintext: `4500001c42a200008001441f406793b6 e00000020a00f5ff01020201`,
		packet:    `42f67e3f101010104e280000a2fca1a3 fba2ca845e5df9f0f22c3e6e86dd831e 1fc65792cd1af9130e1379ed369f071f 35e034be95f112e4e7d05d35`},
	{name: "gcm-test case 7 (AES-192)", enc: alg.EncAESGCM16, key: "feffe9928665731c6d6a8f9467308308feffe9928665731c cafebabe",
		spi: 0xa5f8, seq: 0xa, iv: 0xfacedbaddecaf888,
		plaintext: `45000028a4ad4000400678800a01038f 0a010612802306b8cb712602dd6bb03e 501016d075680001`,
		packet: `0000a5f80000000afacedbaddecaf888 a5b1f8066029aea40e598b8122de0242 0938b3ab33f828e687b8858b5bfbdbd0
			315b27452144cc7795457b9652037f53 18027b5b4cd7a636`},
	{name: "gcm-test case 8 (AES-128, ESN)", enc: alg.EncAESGCM16, key: "abbccddef00112233445566778899aab decaf888",
		spi: 0x100, seq: 1, esn: true, iv: 0xcafedebaceface74,
		plaintext: `4500004933ba00007f119106c3fb1d10 c2b1d326c02831ce0035dd7b800302d5 00004e20001e8c18d75b81dc91baa047
			6b91b924b280389d92c963bac046ec95 9b6266c04722b14923010101`,
		packet: `0000010000000001cafedebaceface74 18a6fd42f72cbf4ab2a2ea901f73d814 e3e7f243d95412e1c349c1d2fbec168f
			9190feebaf2cb01984e65863965d7472 b79da345e0e780191f0d2f0e0f496c22 6f2127b27db35724e7845d68651f57e6 5f354f75ff17015769623436`},
	{name: "gcm-test case 9 (AES-256, ESN)", enc: alg.EncAESGCM16, key: "abbccddef00112233445566778899aababbccddef00112233445566778899aab 73616c74",
		spi: 0x17405e67, seq: 0x156f3126dd0db99b, esn: true, iv: 0x616e640169766563,
		plaintext: `45080028732c00004006e9f90a010612 0a01038f06b88023dd6bafbecb712602 50101f646d540001`,
		packet: `17405e67dd0db99b616e640169766563 f2d69ecdbd5a0d5b8d5ef38bad4da58d 1f278fde98ef67549d524a3018d9a57f
			f4d3a31ce673119e451626c2415771e3 b7eebca614c89b35`},
	{name: "gcm-test case 10 (AES-128, ESN)", enc: alg.EncAESGCM16, key: "3de09874b388e6491988d0c3607eae1f 57690e43",
		spi: 0x42f67e3f, seq: 0x1010101010101010, esn: true, iv: 0x4e280000a2fca1a3,
		plaintext: `45000049333e00007f119182c3fb1d10 c2b1d326c02831ce0035cb458003025b 000001e0001e8c18d65759d52284a035
			2c71475c8880391c764d6e5ee0496b32 5ae270c03899493915010101`,
		packet: `42f67e3f101010104e280000a2fca1a3 fba2cad12fc1f9f00d3cebf305410db8 3d7784b607323d220f24b0a97d541828
			00cadb0f68d99ef0e0c0c89ae9bea888 4e52d65bc1afd0740f742444747b5b39 ab533163aad4550ee5160975cdb608c5 769189609763b8e18caa81e2`},
	{name: "gcm-test case 11 (AES-256, ESN)", enc: alg.EncAESGCM16, key: "abbccddef00112233445566778899aababbccddef00112233445566778899aab 73616c74",
		spi: 0x17405e67, seq: 0x156f3126dd0db99b, esn: true, iv: 0x616e640169766563,
		plaintext: `636973636f0172756c65730174686501 6e6574776501646566696e6501746865 746563686e6f6c6f6769657301746861
			7477696c6c01646566696e65746f6d6f 72726f7701020201`,
		packet: `17405e67dd0db99b616e640169766563 d4b7ed86a1777f2ea13d6973d324c69e 7b43f826fb56831226508bebd2dceb18
			d0a6df10e5487df074113e14c641024e 3e6773d91a62ee429b043a10e3efe6b0 12a49363412364f8c0cac587f249e56b 11e24f30e44ccc76`},
	{name: "gcm-test case 12 (AES-128, empty payload)", enc: alg.EncAESGCM16, key: "7d773d00c144c525ac619d18c84a3f47 d9664267",
		spi: 0x335467ae, seq: 0xffffffff, iv: 0x43457e9182443bc6,
		plaintext: `01020201`,
		packet:    `335467aeffffffff43457e9182443bc6 437f866bcb3f699fe9b0822bac961c45 04bef270`},
	{name: "gcm-test case 13 (AES-128, ESN)", enc: alg.EncAESGCM16, key: "abbccddef00112233445566778899aab decaf888",
		spi: 0x100, seq: 1, esn: true, iv: 0xcafedebaceface74,
		plaintext: `746f016265016f72016e6f7401746f01 62650001`,
		packet: `0000010000000001cafedebaceface74 29c9fc69a197d038ccdd14e2ddfcaa05 43332164412503524303ed3c6c5f2838
			43af8c3e`},
	{name: "gcm-test case 14 (AES-256, ESN, seq 2^64-1)", enc: alg.EncAESGCM16, key: "6c6567616c697a656d6172696a75616e61616e64646f69746265666f72656961 7475726e",
		spi: 0x796b6963, seq: 0xffffffffffffffff, esn: true, iv: 0x333021696765746d,
		plaintext: `45000030da3a00008001df3bc0a80005 c0a800010800c6cd0200070061626364 65666768696a6b6c6d6e6f7071727374
			01020201`,
		packet: `796b6963ffffffff333021696765746d f97ab2aa356d8edce17644ac8c78e25d d24dedbb29ebf1b64a274b39b49c3a86
			4cd3d78ca4ae68a32b42458fb57dbe82 1dcc63b9d0937ba2945f669368661a32 9fb4c053`},
	{name: "RFC 7634 Appendix A (ChaCha20-Poly1305, tunnel)", enc: alg.EncChaCha20Poly1305,
		key: "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f a0a1a2a3",
		spi: 0x01020304, seq: 5, iv: 0x1011121314151617, tunnel: true,
		plaintext: `45000054a6f200004001e778c6336405 c0000205 08005b7a3a080000553bec10 000736270809 0a0b0c0d0e0f10111213
			1415161718191a1b1c1d1e1f20212223 2425262728292a2b2c2d2e2f30313233 3435363701020204`,
		packet: `0102030400000005 1011121314151617 24039428b97f417e 3c13753a4f05087b 67c352e6a7fab1b982d466ef407ae5c6
			14ee8099d52844eb61aa95dfab4c02f7 2aa71e7c4c4f64c9befe2facc638e8f3 cbec163fac469b502773f6fb94e664da
			9165b82829f641e0 76aaa8266b7fb0f7b11b369907e1ad43`},
}

// TestKnownAnswers builds each published packet with the same SPI,
// sequence number and IV and compares every ESP byte, then decapsulates
// the published packet and compares the plaintext.
func TestKnownAnswers(t *testing.T) {
	for _, v := range espVectors {
		t.Run(v.name, func(t *testing.T) {
			pt, want := unhex(t, v.plaintext), unhex(t, v.packet)
			s := suite{enc: v.enc, auth: alg.AuthNull, encKey: unhex(t, v.key)}
			out, in := pair(t, s, saOpts{tunnel: v.tunnel, esn: v.esn, window: 64, spi: v.spi})
			padLen, nh := int(pt[len(pt)-2]), pt[len(pt)-1]
			payload := pt[:len(pt)-2-padLen]
			clear := payload
			if !v.tunnel {
				clear = outer4(nh, payload)
			}

			advance(t, out, v.seq)
			p := NewProcessor(&ivEngine{Engine: alg.NewGoEngine(), iv: v.iv})
			b := buf(t, clear)
			if r := encap1(t, p, b, out, Options{}); r != stats.ReasonNone {
				t.Fatalf("encap: %v", r)
			}
			got := b.Bytes()[b.Meta.L4Off:]
			if d := diff(got, want); d != "" {
				t.Fatalf("ESP packet differs: %s", d)
			}
			if v.seq == 0xffffffff && (len(p.Expired()) != 1 || p.Expired()[0].Expiry&sad.ExpireHard == 0) {
				t.Fatalf("last 32-bit sequence number used, expiries %+v", p.Expired())
			}
			b.Free()

			expectWindow(in, v.seq)
			q := NewProcessor(alg.NewGoEngine())
			b = buf(t, outer4(hdr.ProtoESP, want))
			if r := decap1(t, q, b, in, Options{}); r != stats.ReasonNone {
				t.Fatalf("decap: %v", r)
			}
			if d := diff(b.Bytes(), clear); d != "" {
				t.Fatalf("decapsulated packet differs: %s", d)
			}
			b.Free()
		})
	}
}

// RFC 3602 §4 test cases 5-8: AES-CBC without integrity, case 5 and 6 an
// ICMP payload (transport), 7 and 8 an IPv4 packet (tunnel).
var cbcVectors = []struct {
	name, key, iv string
	spi           uint32
	seq           uint64
	tunnel        bool
	payload, msg  string
}{
	{"case 5", "90d382b410eeba7ad938c46cec1a82bf", "e96e8c08ab465763fd098d45dd3ff893", 0x4321, 1, false,
		`08000ebda70a00008e9c083db95b070008090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637`,
		`0000432100000001e96e8c08ab465763fd098d45dd3ff893f663c25d325c18c6a9453e194e120849a4870b66cc6b9965330013b4898dc856a4699e523a55db080b59ec3a8e4b7e52775b07d1db34ed9c538ab50c551b874aa269add047ad2d5913ac19b7cfbad4a6`},
	{"case 6", "90d382b410eeba7ad938c46cec1a82bf", "69d08df7d203329db093fc4924e5bd80", 0x4321, 8, false,
		`0800b5e8a80a0500a69c083d0b660e00777777777777777777777777`,
		`000043210000000869d08df7d203329db093fc4924e5bd80f51995881ec4e0c4488987ce742e8109689bb379d2d750c0d915dca346a89f75`},
	{"case 7", "0123456789abcdef0123456789abcdef", "f4e765244f6407adf13dc1380f673f37", 0x8765, 2, true,
		`45000054090400004001f988c0a87b03c0a87bc808009f76a90a0100b49c083d02a2040008090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637`,
		`0000876500000002f4e765244f6407adf13dc1380f673f37773b5241a4c449225e4f3ce5ed611b0c237ca96cf74a93013c1b0ea1a0cf70f8e4ecaec78ac53aad7a0f022b859243c647752e94a859352b8a4d4d2decd136e5c177f132ad3fbfb2201ac9904c74ee0a109e0ca1e4dfe9d5a100b842f1c22f0d`},
	{"case 8", "0123456789abcdef0123456789abcdef", "85d47224b5f3dd5d2101d4ea8dffab22", 0x8765, 5, true,
		`45000044090c00004001f990c0a87b03c0a87bc80800d63caa0a0200c69c083da3de0300ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff`,
		`000087650000000585d47224b5f3dd5d2101d4ea8dffab2215b92683819596a8047232cc00f7048fe45318e11f8a0f62ede3c3fc61203bb50f980a08c9843fd3a1b06d5c07ff9639b7eb7dfb3512e5de435e7207ed971ef3d2726d9b5ef6affc6d17a0decbb13892`},
}

// TestRFC3602 encapsulates RFC 3602's cases with their IVs and compares
// the ESP packets, then decapsulates the published packets.
func TestRFC3602(t *testing.T) {
	for _, v := range cbcVectors {
		t.Run(v.name, func(t *testing.T) {
			key, want, payload := unhex(t, v.key), unhex(t, v.msg), unhex(t, v.payload)
			s := suite{enc: alg.EncAESCBC, auth: alg.AuthNull, encKey: key}
			out, in := pair(t, s, saOpts{tunnel: v.tunnel, window: 64, spi: v.spi})
			clear := payload
			if !v.tunnel {
				clear = outer4(hdr.ProtoICMP, payload)
			}
			advance(t, out, v.seq)
			p := NewProcessor(&cbcEngine{Engine: alg.NewGoEngine(), key: key, iv: unhex(t, v.iv)})
			b := buf(t, clear)
			if r := encap1(t, p, b, out, Options{}); r != stats.ReasonNone {
				t.Fatalf("encap: %v", r)
			}
			if d := diff(b.Bytes()[b.Meta.L4Off:], want); d != "" {
				t.Fatalf("ESP packet differs: %s", d)
			}
			b.Free()
			expectWindow(in, v.seq)
			b = buf(t, outer4(hdr.ProtoESP, want))
			if r := decap1(t, NewProcessor(alg.NewGoEngine()), b, in, Options{}); r != stats.ReasonNone {
				t.Fatalf("decap: %v", r)
			}
			if d := diff(b.Bytes(), clear); d != "" {
				t.Fatalf("decapsulated packet differs: %s", d)
			}
			b.Free()
		})
	}
}
