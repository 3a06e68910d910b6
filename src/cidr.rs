//! CIDR blocks and `CIDR:port` destinations (`"0.0.0.0/0:443"`, `"fd00::/8:443"`): the
//! syntax of `egress` and `[network] api`, and the address arithmetic the NetworkPolicy
//! proof needs for `ipBlock` peers. IPv4 and IPv6.

use std::fmt;
use std::net::IpAddr;

/// An address block: a network address and a prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

/// A destination outside the cluster's pods: a block and one TCP port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Destination {
    pub cidr: Cidr,
    pub port: u16,
}

impl Cidr {
    /// Parses `10.0.0.0/8` or `fd00::/8`. The address must be the network address (no
    /// host bits set), as Kubernetes requires of `ipBlock.cidr`.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let (addr, prefix) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}` has no prefix length (write e.g. `{text}/32`)"))?;
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("`{addr}` is not an IP address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix: u8 =
            prefix.parse().ok().filter(|p| *p <= max).ok_or_else(|| {
                format!("prefix length `{prefix}` is not a number from 0 to {max}")
            })?;
        let cidr = Cidr { addr, prefix };
        if cidr.network() != bits(addr) {
            return Err(format!(
                "`{text}` has host bits set: the block starts at {}/{prefix}",
                from_bits(cidr.network(), addr.is_ipv4())
            ));
        }
        Ok(cidr)
    }

    fn width(&self) -> u32 {
        if self.addr.is_ipv4() { 32 } else { 128 }
    }

    fn mask(&self) -> u128 {
        let host = self.width() - u32::from(self.prefix);
        let all = if self.width() == 32 {
            u128::from(u32::MAX)
        } else {
            u128::MAX
        };
        all.checked_shl(host).map_or(0, |m| m & all)
    }

    fn network(&self) -> u128 {
        bits(self.addr) & self.mask()
    }

    /// Whether `ip` lies in the block (an IPv4 address is never in an IPv6 block).
    pub fn contains(&self, ip: IpAddr) -> bool {
        ip.is_ipv4() == self.addr.is_ipv4() && bits(ip) & self.mask() == self.network()
    }

    /// Whether every address of `other` lies in this block.
    pub fn covers(&self, other: &Cidr) -> bool {
        other.prefix >= self.prefix && self.contains(other.addr)
    }

    /// The block's first address.
    pub fn first(&self) -> IpAddr {
        self.addr
    }

    /// Whether this block is every address of its family (`0.0.0.0/0`, `::/0`).
    pub fn is_everything(&self) -> bool {
        self.prefix == 0
    }
}

fn bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn from_bits(bits: u128, v4: bool) -> IpAddr {
    if v4 {
        IpAddr::V4(std::net::Ipv4Addr::from(u32::try_from(bits).unwrap_or(0)))
    } else {
        IpAddr::V6(std::net::Ipv6Addr::from(bits))
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl Destination {
    /// Parses `CIDR:port`, e.g. `0.0.0.0/0:443` (the port follows the last `:`).
    pub fn parse(text: &str) -> Result<Destination, String> {
        let (cidr, port) = text
            .rsplit_once(':')
            .filter(|(c, _)| c.contains('/'))
            .ok_or_else(|| {
                "not CIDR:port (an address block with its prefix length, then the port)".to_owned()
            })?;
        let cidr = Cidr::parse(cidr)?;
        let port: u16 = port
            .parse()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("port `{port}` is not a number from 1 to 65535"))?;
        Ok(Destination { cidr, port })
    }
}

impl serde::Serialize for Destination {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.cidr, self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_destinations() {
        let d = Destination::parse("0.0.0.0/0:443").unwrap();
        assert!(d.cidr.is_everything());
        assert_eq!(d.port, 443);
        let d = Destination::parse("fd00::/8:6443").unwrap();
        assert_eq!((d.cidr.prefix, d.port), (8, 6443));
        assert_eq!(d.to_string(), "fd00::/8:6443");
    }

    #[test]
    fn rejects_malformed_destinations() {
        for bad in [
            "0.0.0.0/0",
            "0.0.0.0:443",
            "10.0.0.1/8:443",
            "10.0.0.0/33:443",
            "300.0.0.0/8:443",
            "10.0.0.0/8:0",
            "10.0.0.0/8:https",
            "10.0.0.0/8:70000",
        ] {
            assert!(Destination::parse(bad).is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn containment() {
        let net = Cidr::parse("10.96.0.0/12").unwrap();
        assert!(net.contains("10.96.0.1".parse().unwrap()));
        assert!(net.contains("10.111.255.255".parse().unwrap()));
        assert!(!net.contains("10.112.0.0".parse().unwrap()));
        assert!(!net.contains("::1".parse().unwrap()));
        let all = Cidr::parse("0.0.0.0/0").unwrap();
        assert!(all.contains("203.0.113.7".parse().unwrap()));
        assert!(all.covers(&net) && !net.covers(&all));
        assert!(
            Cidr::parse("::/0")
                .unwrap()
                .contains("fd00::1".parse().unwrap())
        );
    }
}
