package alg

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"
)

func hx(s string) []byte {
	b, err := hex.DecodeString(strings.NewReplacer(" ", "", "\n", "", "\t", "").Replace(s))
	if err != nil {
		panic(err)
	}
	return b
}

// pkt lays out one ESP-like packet in a single buffer with tailroom:
// hdr(8) | IV | Text | ICV | 32 spare bytes. Auth covers hdr|IV|Text.
func pkt(s *Session, hdr, iv, text []byte) (buf []byte, op Op) {
	ivl, icvl := s.IVLen(), s.ICVLen()
	buf = make([]byte, 8+ivl+len(text)+icvl, 8+ivl+len(text)+icvl+32)
	copy(buf, hdr)
	copy(buf[8:], iv)
	copy(buf[8+ivl:], text)
	op = Op{
		Sess: s,
		IV:   buf[8 : 8+ivl],
		Text: buf[8+ivl : 8+ivl+len(text)],
		Auth: buf[:8+ivl+len(text)],
		ICV:  buf[8+ivl+len(text):],
	}
	return buf, op
}

// cbcKAT: AES-CBC RFC 3602 §4 and 3DES-CBC NIST CAVP TDES MMT (TCBCMMT3)
// examples, through Open (decrypt) and Seal (encrypt with the IV injected).
func TestKATCBC(t *testing.T) {
	cases := []struct {
		src        string
		enc        EncID
		key, iv    string
		plain, cip string
	}{
		{"RFC 3602 §4 Case #1", EncAESCBC, "06a9214036b8a15b512e03d534120006", "3dafba429d9eb430b422da802c9fac41",
			hex.EncodeToString([]byte("Single block msg")), "e353779c1079aeb82708942dbe77181a"},
		{"RFC 3602 §4 Case #2", EncAESCBC, "c286696d887c9aa0611bbb3e2025a45a", "562e17996d093d28ddb3ba695a2e6f58",
			"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
			"d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1"},
		{"RFC 3602 §4 Case #4", EncAESCBC, "56e47a38c5598974bc46903dba290349", "8ce82eefbea0da3c44699ed7db51b7d9",
			"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf",
			"c30e32ffedc0774e6aff6af0869f71aa0f3af07a9a31a9c684db207eb0ef8e4e35907aa632c3ffdf868bb7b29d3d46ad83ce9f9a102ee99d49a53e87f4c3da55"},
		{"NIST CAVP TDES MMT (TCBCMMT3) example 1", Enc3DESCBC, "627f460e08104a1043cd265d5840eaf1313edf97df2a8a8c", "8e29f75ea77e5475",
			"326a494cd33fe756", "b22b8d66de970692"},
		{"NIST CAVP TDES MMT (TCBCMMT3) example 2", Enc3DESCBC, "37ae5ebf46dff2dc0754b94f31cbb3855e7fd36dc870bfae", "3d1de3cc132e3b65",
			"84401f78fe6c10876d8ea23094ea5309", "7b1f7c7e3b1c948ebd04a75ffba7d2f5"},
	}
	e := NewGoEngine()
	for _, c := range cases {
		s, err := NewSession(c.enc, hx(c.key), AuthNull, nil)
		if err != nil {
			t.Fatalf("%s: %v", c.src, err)
		}
		_, op := pkt(s, nil, hx(c.iv), hx(c.cip))
		ops := []Op{op}
		e.Open(ops)
		if ops[0].Status != OK || !bytes.Equal(ops[0].Text, hx(c.plain)) {
			t.Errorf("%s: open %v got %x", c.src, ops[0].Status, ops[0].Text)
		}
		// Seal: inject the vector's IV as the next CSPRNG output.
		_, op = pkt(s, nil, nil, hx(c.plain))
		e.rnd.pos = 0
		copy(e.rnd.buf[:], hx(c.iv))
		ops = []Op{op}
		e.Seal(ops)
		if ops[0].Status != OK || !bytes.Equal(ops[0].IV, hx(c.iv)) || !bytes.Equal(ops[0].Text, hx(c.cip)) {
			t.Errorf("%s: seal %v got iv %x text %x", c.src, ops[0].Status, ops[0].IV, ops[0].Text)
		}
	}
}

// RFC 3686 §6 Test Vectors #1-#9 (AES-CTR; key includes the 4-byte nonce).
func TestKATCTR(t *testing.T) {
	const p16 = "53696e676c6520626c6f636b206d7367" // "Single block msg"
	const p32 = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	const p36 = p32 + "20212223"
	cases := []struct{ key, iv, plain, cip string }{
		{"ae6852f8121067cc4bf7a5765577f39e00000030", "0000000000000000", p16, "e4095d4fb7a7b3792d6175a3261311b8"},
		{"7e24067817fae0d743d6ce1f32539163006cb6db", "c0543b59da48d90b", p32, "5104a106168a72d9790d41ee8edad388eb2e1efc46da57c8fce630df9141be28"},
		{"7691be035e5020a8ac6e618529f9a0dc00e0017b", "27777f3f4a1786f0", p36, "c1cf48a89f2ffdd9cf4652e9efdb72d74540a42bde6d7836d59a5ceaaef3105325b2072f"},
		{"16af5b145fc9f579c175f93e3bfb0eed863d06ccfdb7851500000048", "36733c147d6d93cb", p16, "4b55384fe259c9c84e7935a003cbe928"},
		{"7c5cb2401b3dc33c19e7340819e0f69c678c3db8e6f6a91a0096b03b", "020c6eadc2cb500d", p32, "453243fc609b23327edfaafa7131cd9f8490701c5ad4a79cfc1fe0ff42f4fb00"},
		{"02bf391ee8ecb159b959617b0965279bf59b60a786d3e0fe0007bdfd", "5cbd60278dcc0912", p36, "96893fc55e5c722f540b7dd1ddf7e758d288bc95c69165884536c811662f2188abee0935"},
		{"776beff2851db06f4c8a0542c8696f6c6a81af1eec96b4d37fc1d689e6c1c10400000060", "db5672c97aa8f0b2", p16, "145ad01dbf824ec7560863dc71e3e0c0"},
		{"f6d66d6bd52d59bb0796365879eff886c66dd51a5b6a99744b50590c87a23884 00faac24", "c1585ef15a43d875", p32, "f05e231b3894612c49ee000b804eb2a9b8306b508f839d6a5530831d9344af1c"},
		{"ff7a617ce69148e4f1726e2f43581de2aa62d9f805532edff1eed687fb54153d001cc5b7", "51a51d70a1c11148", p36, "eb6c52821d0bbbf7ce7594462aca4faab407df866569fd07f48cc0b583d6071f1ec0e6b8"},
	}
	e := NewGoEngine()
	for i, c := range cases {
		s, err := NewSession(EncAESCTR, hx(c.key), AuthNull, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, op := pkt(s, nil, nil, hx(c.plain))
		op.IVCounter = binary.BigEndian.Uint64(hx(c.iv))
		ops := []Op{op}
		e.Seal(ops)
		if ops[0].Status != OK || !bytes.Equal(ops[0].IV, hx(c.iv)) || !bytes.Equal(ops[0].Text, hx(c.cip)) {
			t.Errorf("RFC 3686 #%d: seal got %x", i+1, ops[0].Text)
		}
		e.Open(ops)
		if ops[0].Status != OK || !bytes.Equal(ops[0].Text, hx(c.plain)) {
			t.Errorf("RFC 3686 #%d: open got %x", i+1, ops[0].Text)
		}
	}
}

// aeadKAT checks Open of (ct, tag) and, when plain is known, Seal of plain;
// otherwise it re-seals the opened plaintext and expects the same bytes.
func aeadKAT(t *testing.T, src string, enc EncID, key, iv, aad, plain, cip, tag string) {
	t.Helper()
	e := NewGoEngine()
	s, err := NewSession(enc, hx(key), AuthNull, nil)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	buf, op := pkt(s, nil, hx(iv), hx(cip))
	copy(op.ICV, hx(tag))
	op.AAD = hx(aad)
	ops := []Op{op}
	e.Open(ops)
	if ops[0].Status != OK {
		t.Fatalf("%s: open: %v", src, ops[0].Status)
	}
	pt := append([]byte(nil), ops[0].Text...)
	if plain != "" && !bytes.Equal(pt, hx(plain)) {
		t.Errorf("%s: open plaintext %x", src, pt)
	}
	_ = buf
	_, op = pkt(s, nil, nil, pt)
	op.AAD = hx(aad)
	op.IVCounter = binary.BigEndian.Uint64(hx(iv))
	ops = []Op{op}
	e.Seal(ops)
	if ops[0].Status != OK || !bytes.Equal(ops[0].IV, hx(iv)) || !bytes.Equal(ops[0].Text, hx(cip)) || !bytes.Equal(ops[0].ICV, hx(tag)) {
		t.Errorf("%s: seal %v: iv %x ct %x icv %x", src, ops[0].Status, ops[0].IV, ops[0].Text, ops[0].ICV)
	}
}

// draft-mcgrew-gcm-test-01 §4: AES-GCM ESP packets (AAD = SPI||Seq or
// SPI||SeqHi||SeqLo). Ciphertext and tag from the draft; the plaintext is
// recovered by Open and must re-seal to the same bytes.
func TestKATGCMDraft(t *testing.T) {
	cases := []struct{ name, key, iv, aad, cip, tag string }{
		{"AES-128, ESN (page 6)", "4c80cdefbb5d10da906ac73c3613a634 2e443b68", "4956ed7e3b244cfe", "000043218765432100000000",
			"fecf537e729d5b07dc30df528dd22b768d1b98736696a6fd348509fa13ceac34cfa2436f14a3f3cf65925bf1f4a13c5d15b21e1884f5ff6247aeabb786b93bce61bc17d768fd9732",
			"459018148f6cbe722fd04796562dfdb4"},
		{"AES-128 (page 7)", "feffe9928665731c6d6a8f9467308308 cafebabe", "facedbaddecaf888", "0000a5f80000000a",
			"deb22cd9b07c72c16e3a65beeb8df304a5a5897d33ae530f1ba76d5d114d2a5c3de81827c10e9a4f51330d0eec416642cfbb85a5b47e48a4ec3b9ba95d918bd1",
			"83b70d3aa8bc6ee4c309e9d85a41ad4a"},
		{"AES-256 (page 8)", "abbccddef00112233445566778899aababbccddef00112233445566778899aab 11223344", "0102030405060708", "4a2cbfe300000002",
			"ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763748a637985771d347f0545659f14e99def842d8e",
			"b335f4eecfdbf831824b4c4915956c96"},
		{"AES-128 zero key (page 9)", "00000000000000000000000000000000 00000000", "0000000000000000", "0000000000000001",
			"4688daf2f973a392732909c331d56d60f694abaa414b5e7ff5fdcdfff5e9a284456476492719ffb64de7d9dca1e1d894bc3bd57873ed4d181d19d4d5c8c18af3",
			"f821d496eeb096e98ad2b69e4799c71d"},
		{"AES-128, ESN (page 10)", "3de09874b388e6491988d0c3607eae1f 57690e43", "4e280000a2fca1a3", "42f67e3f1010101010101010",
			"fba2caa4853cf9f0f22cb10d86dd83b0fec75691cf1a04b00d1138ec9c35791765acbd8701ad79845bf9fe3fba487bc91755e6662b4c8d0d1f5e22739530320a",
			"e0d731cc978ecafaeae88f00e80d6e48"},
		{"AES-192 (page 11)", "feffe9928665731c6d6a8f9467308308feffe9928665731c cafebabe", "facedbaddecaf888", "0000a5f80000000a",
			"a5b1f8066029aea40e598b8122de02420938b3ab33f828e687b8858b5bfbdbd0315b27452144cc77",
			"95457b9652037f5318027b5b4cd7a636"},
		{"AES-256, ESN (page 13)", "abbccddef00112233445566778899aababbccddef00112233445566778899aab 73616c74", "616e640169766563", "17405e67156f3126dd0db99b",
			"f2d69ecdbd5a0d5b8d5ef38bad4da58d1f278fde98ef67549d524a3018d9a57ff4d3a31ce673119e",
			"451626c2415771e3b7eebca614c89b35"},
		{"AES-128 4-byte payload (page 16)", "7d773d00c144c525ac619d18c84a3f47 d9664267", "43457e9182443bc6", "335467aeffffffff",
			"437f866b", "cb3f699fe9b0822bac961c4504bef270"},
		{"AES-256, ESN (page 17)", "6c6567616c697a656d6172696a75616e61616e64646f6974626566 6f72656961 7475726e", "3330216967657 46d", "796b6963ffffffffffffffff",
			"f97ab2aa356d8edce17644ac8c78e25dd24dedbb29ebf1b64a274b39b49c3a864cd3d78ca4ae68a32b42458fb57dbe821dcc63b9",
			"d0937ba2945f669368661a329fb4c053"},
		{"AES-128, ESN (page 20)", "4c80cdefbb5d10da906ac73c3613a634 22433c64", "4855ec7d3a234bfd", "000043218765432100000007",
			"74752e8aeb5d873cd7c0f4acc36c4bff84b7d7b98f0ca8b6acda6894bc619069",
			"ef9cbc28fe1b56a7c4e0d58c86cd2bc0"},
	}
	for _, c := range cases {
		aeadKAT(t, "draft-mcgrew-gcm-test-01 "+c.name, EncAESGCM16, c.key, c.iv, c.aad, "", c.cip, c.tag)
	}
}

// McGrew & Viega GCM spec test cases 3, 4 and 15 in RFC 4106 form (salt
// cafebabe, IV facedbaddecaf888), with the tag truncated to 8 and 12 bytes:
// exercises aes-gcm-8, aes-gcm-12 and aes-gcm-16 with known plaintext.
func TestKATGCMSpecTruncated(t *testing.T) {
	const p64 = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"
	const c64 = "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985"
	const tag = "4d5c2af327cd64a62cf35abd2ba6fab4"
	key := "feffe9928665731c6d6a8f9467308308 cafebabe"
	aeadKAT(t, "GCM spec TC3, ICV 8", EncAESGCM8, key, "facedbaddecaf888", "", p64, c64, tag[:16])
	aeadKAT(t, "GCM spec TC3, ICV 12", EncAESGCM12, key, "facedbaddecaf888", "", p64, c64, tag[:24])
	aeadKAT(t, "GCM spec TC3, ICV 16", EncAESGCM16, key, "facedbaddecaf888", "", p64, c64, tag)
	// TC4: 60-byte plaintext with 20-byte AAD.
	aeadKAT(t, "GCM spec TC4, ICV 8", EncAESGCM8, key, "facedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
		p64[:120], c64[:112]+"3d58e091", "5bc94fbc3221a5db")
	aeadKAT(t, "GCM spec TC4, ICV 16", EncAESGCM16, key, "facedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
		p64[:120], c64[:112]+"3d58e091", "5bc94fbc3221a5db94fae95ae7121a47")
	// TC15/16: AES-256.
	key256 := "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308 cafebabe"
	c256 := "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad"
	aeadKAT(t, "GCM spec TC15, ICV 16", EncAESGCM16, key256, "facedbaddecaf888", "", p64, c256, "b094dac5d93471bdec1a502270e3cc6c")
	aeadKAT(t, "GCM spec TC15, ICV 8", EncAESGCM8, key256, "facedbaddecaf888", "", p64, c256, "b094dac5d93471bd")
	aeadKAT(t, "GCM spec TC16, ICV 8", EncAESGCM8, key256, "facedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
		p64[:120], c256[:112]+"bcc9f662", "76fc6ece0f4e1768")
}

// draft-mcgrew-gcm-test-01 §4 (page 18): AES-GMAC in ESP (RFC 4543). The AAD
// is SPI||Seq||IV||payload||trailer; the tag is the ICV.
func TestKATGMACDraft(t *testing.T) {
	e := NewGoEngine()
	s, err := NewSession(EncAESGMAC, hx("4c80cdefbb5d10da906ac73c3613a634 22433c64"), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	aad := hx("00004321000000070000000000000000" +
		"45000030da3a00008001df3bc0a80005c0a800010800c6cd02000700" +
		"6162636465666768696a6b6c6d6e6f7071727374" + "01020201")
	iv := make([]byte, 8)
	icv := make([]byte, 16)
	ops := []Op{{Sess: s, AAD: aad, IV: iv, ICV: icv, IVCounter: 0}}
	e.Seal(ops)
	want := hx("f2a9a836e155106aa8dcd618e4099aaa")
	if ops[0].Status != OK || !bytes.Equal(icv, want) {
		t.Fatalf("gmac seal %v: %x", ops[0].Status, icv)
	}
	e.Open(ops)
	if ops[0].Status != OK {
		t.Fatalf("gmac open: %v", ops[0].Status)
	}
	aad[20] ^= 1
	e.Open(ops)
	if ops[0].Status != BadICV {
		t.Fatalf("gmac tampered: %v", ops[0].Status)
	}
}

// RFC 7634 Appendix A: ChaCha20-Poly1305 ESP example.
func TestKATChaCha20Poly1305ESP(t *testing.T) {
	aeadKAT(t, "RFC 7634 Appendix A", EncChaCha20Poly1305,
		"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f a0a1a2a3",
		"1011121314151617", "0102030400000005",
		"45000054a6f200004001e778c6336405c000020508005b7a3a080000553bec100007362708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363701020204",
		"24039428b97f417e3c13753a4f05087b67c352e6a7fab1b982d466ef407ae5c614ee8099d52844eb61aa95dfab4c02f72aa71e7c4c4f64c9befe2facc638e8f3cbec163fac469b502773f6fb94e664da9165b82829f641e0",
		"76aaa8266b7fb0f7b11b369907e1ad43")
}

// macKAT runs a session's MAC over data (split at every position to test
// the a||b streaming) and compares the first len(want) bytes.
func macKAT(t *testing.T, src string, s *Session, data []byte, want string) {
	t.Helper()
	e := NewGoEngine()
	w := hx(want)
	for cut := 0; cut <= len(data); cut++ {
		got := s.macFn(e, s, data[:cut], data[cut:])
		if !bytes.Equal(got[:len(w)], w) {
			t.Fatalf("%s (split %d): got %x want %x", src, cut, got[:len(w)], w)
		}
		if len(data) > 40 && cut > 2 {
			cut += 7
		}
	}
}

func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// RFC 3566 §4 Test Cases #1-#5 (AES-XCBC-MAC, full 128-bit output and the
// 96-bit ICV through a Session).
func TestKATXCBC(t *testing.T) {
	key := seq(16)
	s, err := NewSession(EncNull, nil, AuthAESXCBC, key)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		n    int
		want string
	}{
		{0, "75f0251d528ac01c4573dfd584d79f29"},
		{3, "5b376580ae2f19afe7219ceef172756f"},
		{16, "d2a246fa349b68a79998a4394ff7a263"},
		{20, "47f51b4564966215b8985c63055ed308"},
		{32, "f54f0ec8d2b9f3d36807734bd5283fd4"},
	} {
		macKAT(t, "RFC 3566 XCBC", s, seq(c.n), c.want)
	}
}

// RFC 4493 §4 Examples 1-4 (AES-CMAC) and RFC 4494 §4 (AES-CMAC-96: the same
// messages truncated to 96 bits).
func TestKATCMAC(t *testing.T) {
	s, err := NewSession(EncNull, nil, AuthAESCMAC, hx("2b7e151628aed2a6abf7158809cf4f3c"))
	if err != nil {
		t.Fatal(err)
	}
	m := hx("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710")
	for _, c := range []struct {
		n    int
		want string
	}{
		{0, "bb1d6929e95937287fa37d129b756746"},
		{16, "070a16b46b4d4144f79bdd9dd04a287c"},
		{40, "dfa66747de9ae63030ca32611497c827"},
		{64, "51f0bebf7e3b9d92fc49741779363cfe"},
	} {
		macKAT(t, "RFC 4493 CMAC", s, m[:c.n], c.want)
		macKAT(t, "RFC 4494 CMAC-96", s, m[:c.n], c.want[:24])
	}
}

func hmacSession(t *testing.T, id AuthID, key []byte) *Session {
	t.Helper()
	s := &Session{}
	switch id {
	case AuthHMACMD5:
		s.initHMAC(hashMD5, hashNew[hashMD5], key)
	case AuthHMACSHA1:
		s.initHMAC(hashSHA1, hashNew[hashSHA1], key)
	case AuthHMACSHA256:
		s.initHMAC(hashSHA256, hashNew[hashSHA256], key)
	case AuthHMACSHA384:
		s.initHMAC(hashSHA384, hashNew[hashSHA384], key)
	case AuthHMACSHA512:
		s.initHMAC(hashSHA512, hashNew[hashSHA512], key)
	}
	return s
}

func rep(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }

// RFC 2202 (HMAC-MD5, HMAC-SHA1) test cases 1-3, 6 and RFC 4231 test cases
// 1-4, 6, 7 (HMAC-SHA-256/384/512, any key length: exercises the precomputed
// pad states directly, including keys hashed because longer than a block).
func TestKATHMACRFC2202and4231(t *testing.T) {
	hiThere := []byte("Hi There")
	jefeData := []byte("what do ya want for nothing?")
	large := []byte("Test Using Larger Than Block-Size Key - Hash Key First")
	large2 := []byte("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.")
	cases := []struct {
		src       string
		id        AuthID
		key, data []byte
		want      string
	}{
		{"RFC 2202 MD5 #1", AuthHMACMD5, rep(0x0b, 16), hiThere, "9294727a3638bb1c13f48ef8158bfc9d"},
		{"RFC 2202 MD5 #2", AuthHMACMD5, []byte("Jefe"), jefeData, "750c783e6ab0b503eaa86e310a5db738"},
		{"RFC 2202 MD5 #3", AuthHMACMD5, rep(0xaa, 16), rep(0xdd, 50), "56be34521d144c88dbb8c733f0e8b3f6"},
		{"RFC 2202 MD5 #6", AuthHMACMD5, rep(0xaa, 80), large, "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd"},
		{"RFC 2202 SHA1 #1", AuthHMACSHA1, rep(0x0b, 20), hiThere, "b617318655057264e28bc0b6fb378c8ef146be00"},
		{"RFC 2202 SHA1 #2", AuthHMACSHA1, []byte("Jefe"), jefeData, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
		{"RFC 2202 SHA1 #3", AuthHMACSHA1, rep(0xaa, 20), rep(0xdd, 50), "125d7342b9ac11cd91a39af48aa17b4f63f175d3"},
		{"RFC 2202 SHA1 #6", AuthHMACSHA1, rep(0xaa, 80), large, "aa4ae5e15272d00e95705637ce8a3b55ed402112"},
		{"RFC 4231 SHA-256 #1", AuthHMACSHA256, rep(0x0b, 20), hiThere, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
		{"RFC 4231 SHA-256 #3", AuthHMACSHA256, rep(0xaa, 20), rep(0xdd, 50), "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
		{"RFC 4231 SHA-256 #4", AuthHMACSHA256, seq(26)[1:], rep(0xcd, 50), "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
		{"RFC 4231 SHA-256 #6", AuthHMACSHA256, rep(0xaa, 131), large, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
		{"RFC 4231 SHA-256 #7", AuthHMACSHA256, rep(0xaa, 131), large2, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
		{"RFC 4231 SHA-384 #1", AuthHMACSHA384, rep(0x0b, 20), hiThere, "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6"},
		{"RFC 4231 SHA-384 #6", AuthHMACSHA384, rep(0xaa, 131), large, "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952"},
		{"RFC 4231 SHA-384 #7", AuthHMACSHA384, rep(0xaa, 131), large2, "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5a678cc31e799176d3860e6110c46523e"},
		{"RFC 4231 SHA-512 #1", AuthHMACSHA512, rep(0x0b, 20), hiThere, "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"},
		{"RFC 4231 SHA-512 #3", AuthHMACSHA512, rep(0xaa, 20), rep(0xdd, 50), "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb"},
		{"RFC 4231 SHA-512 #6", AuthHMACSHA512, rep(0xaa, 131), large, "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"},
	}
	for _, c := range cases {
		macKAT(t, c.src, hmacSession(t, c.id, c.key), c.data, c.want)
	}
}

// RFC 4868 §2.7.2 authentication test vectors (keys of the full output
// length, truncated ICVs), through NewSession.
func TestKATHMACRFC4868(t *testing.T) {
	jefe := []byte("Jefe")
	cases := []struct {
		src  string
		id   AuthID
		key  []byte
		data []byte
		icv  string
	}{
		{"AUTH256-1", AuthHMACSHA256, rep(0x0b, 32), []byte("Hi There"), "198a607eb44bfbc69903a0f1cf2bbdc5"},
		{"AUTH256-2", AuthHMACSHA256, bytes.Repeat(jefe, 8), []byte("what do ya want for nothing?"), "167f928588c5cc2eef8e3093caa0e87c"},
		{"AUTH256-3", AuthHMACSHA256, rep(0xaa, 32), rep(0xdd, 50), "cdcb1220d1ecccea91e53aba3092f962"},
		{"AUTH384-1", AuthHMACSHA384, rep(0x0b, 48), []byte("Hi There"), "b6a8d5636f5c6a7224f9977dcf7ee6c7fb6d0c48cbdee973"},
		{"AUTH384-2", AuthHMACSHA384, bytes.Repeat(jefe, 12), []byte("what do ya want for nothing?"), "2c7353974f1842fd66d53c452ca42122b28c0b594cfb184d"},
		{"AUTH384-3", AuthHMACSHA384, rep(0xaa, 48), rep(0xdd, 50), "809f439be00274321d4a538652164b53554a508184a0c316"},
		{"AUTH512-1", AuthHMACSHA512, rep(0x0b, 64), []byte("Hi There"), "637edc6e01dce7e6742a99451aae82df23da3e92439e590e43e761b33e910fb8"},
		{"AUTH512-2", AuthHMACSHA512, bytes.Repeat(jefe, 16), []byte("what do ya want for nothing?"), "cb370917ae8a7ce28cfd1d8f4705d6141c173b2a9362c15df235dfb251b15454"},
		{"AUTH512-3", AuthHMACSHA512, rep(0xaa, 64), rep(0xdd, 50), "2ee7acd783624ca9398710f3ee05ae41b9f9b0510c87e49e586cc9bf961733d8"},
	}
	e := NewGoEngine()
	for _, c := range cases {
		s, err := NewSession(EncNull, nil, c.id, c.key)
		if err != nil {
			t.Fatal(err)
		}
		// The whole data is the authenticated region (AH-style: no IV, no text).
		icv := make([]byte, s.ICVLen())
		ops := []Op{{Sess: s, Auth: c.data, ICV: icv}}
		e.Seal(ops)
		if ops[0].Status != OK || hex.EncodeToString(icv) != c.icv {
			t.Errorf("RFC 4868 %s: %v %x", c.src, ops[0].Status, icv)
		}
		e.Open(ops)
		if ops[0].Status != OK {
			t.Errorf("RFC 4868 %s: open %v", c.src, ops[0].Status)
		}
	}
}
