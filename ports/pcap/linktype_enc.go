package pcap

// LinkTypeEnc is LINKTYPE_ENC: OpenBSD's enc(4) header (address family,
// SPI, flags) before an IP packet. Ports do not carry it; enc0 captures
// are written with it.
const LinkTypeEnc LinkType = 109
