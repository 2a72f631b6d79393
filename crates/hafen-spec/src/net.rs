//! IP prefixes: parsing with precise errors, containment and overlap.

use std::net::IpAddr;

/// An address range such as `10.244.0.0/16`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    /// Network address (host bits zero).
    pub addr: IpAddr,
    /// Prefix length.
    pub prefix: u8,
}

fn to_bits(addr: IpAddr) -> (u128, u8) {
    match addr {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    }
}

impl Cidr {
    /// Parses `a.b.c.d/n` or an IPv6 prefix. The error says what is wrong and, when host bits
    /// are set, which network was probably meant.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let Some((addr, prefix)) = text.split_once('/') else {
            return Err(format!(
                "`{text}` has no prefix length; write it as `{text}/24` or similar"
            ));
        };
        let addr: IpAddr = addr.parse().map_err(|_| format!("`{addr}` is not an IP address"))?;
        let prefix: u8 =
            prefix.parse().map_err(|_| format!("`{prefix}` is not a prefix length"))?;
        let (bits, width) = to_bits(addr);
        if prefix > width {
            return Err(format!("prefix /{prefix} is longer than the address ({width} bits)"));
        }
        let mask = Self::mask(prefix, width);
        if bits & !mask != 0 {
            let network = Cidr::from_bits(bits & mask, prefix, width);
            return Err(format!("host bits are set; the network is `{network}`"));
        }
        Ok(Cidr { addr, prefix })
    }

    fn mask(prefix: u8, width: u8) -> u128 {
        if prefix == 0 {
            0
        } else {
            let all = if width == 128 { u128::MAX } else { (1u128 << width) - 1 };
            all & !((1u128 << (width - prefix)) - 1)
        }
    }

    fn from_bits(bits: u128, prefix: u8, width: u8) -> Cidr {
        let addr = if width == 32 {
            IpAddr::V4(std::net::Ipv4Addr::from(bits as u32))
        } else {
            IpAddr::V6(std::net::Ipv6Addr::from(bits))
        };
        Cidr { addr, prefix }
    }

    /// First and last address as integers.
    pub fn range(&self) -> (u128, u128) {
        let (bits, width) = to_bits(self.addr);
        let size = if width - self.prefix >= 128 {
            u128::MAX
        } else {
            (1u128 << (width - self.prefix)) - 1
        };
        (bits, bits | size)
    }

    /// True when both are the same family and share at least one address.
    pub fn overlaps(&self, other: &Cidr) -> bool {
        if self.addr.is_ipv4() != other.addr.is_ipv4() {
            return false;
        }
        let (a1, a2) = self.range();
        let (b1, b2) = other.range();
        a1 <= b2 && b1 <= a2
    }

    /// True when `ip` is inside.
    pub fn contains(&self, ip: IpAddr) -> bool {
        if self.addr.is_ipv4() != ip.is_ipv4() {
            return false;
        }
        let (lo, hi) = self.range();
        let (bits, _) = to_bits(ip);
        lo <= bits && bits <= hi
    }

    /// Number of addresses (saturating).
    pub fn size(&self) -> u128 {
        let (lo, hi) = self.range();
        (hi - lo).saturating_add(1)
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_overlap() {
        let pods = Cidr::parse("10.244.0.0/16").unwrap();
        let svc = Cidr::parse("10.96.0.0/12").unwrap();
        let inner = Cidr::parse("10.244.8.0/24").unwrap();
        assert!(!pods.overlaps(&svc));
        assert!(pods.overlaps(&inner));
        assert!(Cidr::parse("10.0.1.5/24").unwrap_err().contains("10.0.1.0/24"));
        assert!(Cidr::parse("10.0.0.0").is_err());
        assert!(Cidr::parse("fd00::/8").unwrap().contains("fd00::1".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().overlaps(&pods));
        assert_eq!(Cidr::parse("10.0.0.0/24").unwrap().size(), 256);
    }
}
