package deflate

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// payloadKinds are what packets carry, made up from a seed.
var payloadKinds = []string{"repeat", "html", "json", "binary", "random"}

// payload makes about n bytes of the given kind.
func payload(kind string, n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	var b strings.Builder
	words := strings.Fields("the of and to in is that for it with as was on be at by this had not are but from or have an they which one you were all we her she there would their will when who him been has more if no out so said what up its about than into them can only other new some could time these two may then do first any my now such like our over man me even most made after also did many before must through back years where much your way well down should because each just those people how too little state good very make world still own see men work long get here between both life being under never day same another know while last might us great old year off come since against go came right used take three")
	for b.Len() < n {
		switch kind {
		case "repeat":
			b.WriteString("GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nAccept: */*\r\n\r\n")
		case "html":
			fmt.Fprintf(&b, "<li class=\"item-%d\"><a href=\"/%s/%s.html\">", r.IntN(40), words[r.IntN(len(words))], words[r.IntN(len(words))])
			for range 3 + r.IntN(8) {
				b.WriteString(words[r.IntN(len(words))] + " ")
			}
			b.WriteString("</a></li>\n")
		case "json":
			fmt.Fprintf(&b, `{"id":%d,"user":"%s%d","active":%t,"score":%.2f,"tags":["%s","%s"]},`,
				r.IntN(1e6), words[r.IntN(len(words))], r.IntN(1000), r.IntN(2) == 0, r.Float64()*100,
				words[r.IntN(len(words))], words[r.IntN(len(words))])
		case "binary": // records: counter, small ints, a timestamp, a float
			var rec [32]byte
			binary.LittleEndian.PutUint32(rec[0:], uint32(b.Len()/32))
			binary.LittleEndian.PutUint16(rec[4:], uint16(r.IntN(8)))
			binary.LittleEndian.PutUint16(rec[6:], uint16(r.IntN(300)))
			binary.LittleEndian.PutUint64(rec[8:], 1_700_000_000_000+uint64(b.Len())*1000+uint64(r.IntN(1000)))
			binary.LittleEndian.PutUint64(rec[16:], math.Float64bits(float64(r.IntN(10000))/100))
			b.Write(rec[:])
		default:
			var x [8]byte
			binary.LittleEndian.PutUint64(x[:], r.Uint64())
			b.Write(x[:])
		}
	}
	return []byte(b.String()[:n])
}
