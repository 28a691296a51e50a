//! The route table: which clearing link takes a payment. A pure table consulted by payment
//! actors (no router actor: a lookup needs no mailbox), swapped whole at runtime (payments in
//! flight keep the link they were sent to; only new lookups see the new table).
//!
//! A rule matches on any of: message type, currency, amount range (integer minor units,
//! inclusive), creditor agent BIC or BIC prefix, clearing system, service level, tenant. Every
//! criterion is optional (`None` matches anything). Rules are ordered by `priority` (lower
//! first), ties in table order; a matching rule contributes its link and then its alternates.
//! [`RouteTable::candidates`] is every matching rule's links in that order without repeats:
//! the primary first, then the failover order.

/// What a route matches on. `None` matches anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteMatch {
    /// ISO message family, e.g. `pacs.008`.
    pub message_type: Option<String>,
    pub currency: Option<String>,
    /// Smallest amount (minor units of the payment's currency), inclusive.
    pub min_amount_minor: Option<i64>,
    /// Largest amount (minor units), inclusive.
    pub max_amount_minor: Option<i64>,
    /// Creditor agent BIC prefix (e.g. "ZYAA" or "ZYAAZAJJ"; a full BIC is a prefix of itself).
    pub creditor_agent_prefix: Option<String>,
    /// Clearing system code of the message (`SttlmInf/ClrSys/Cd`).
    pub clearing_system: Option<String>,
    /// Service level code (`PmtTpInf/SvcLvl/Cd`).
    pub service_level: Option<String>,
    pub tenant: Option<String>,
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub matches: RouteMatch,
    pub link: String,
    /// Lower is tried first; equal priorities keep table order.
    pub priority: u32,
    /// Links to fail over to, in order, after `link`.
    pub alternates: Vec<String>,
}

impl Route {
    /// A catch-all-capable rule with default priority and no alternates.
    #[must_use]
    pub fn new(matches: RouteMatch, link: &str) -> Self {
        Self { matches, link: link.to_owned(), priority: DEFAULT_PRIORITY, alternates: Vec::new() }
    }
}

/// The priority of a rule that names none.
pub const DEFAULT_PRIORITY: u32 = 100;

/// Rules; see the module documentation for the order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteTable {
    pub routes: Vec<Route>,
}

/// The facts of a payment a route can look at.
#[derive(Debug, Clone, Copy)]
pub struct RouteQuery<'a> {
    pub tenant: &'a str,
    pub message_type: &'a str,
    pub currency: &'a str,
    pub amount_minor: i64,
    pub creditor_agent: &'a str,
    pub clearing_system: Option<&'a str>,
    pub service_level: Option<&'a str>,
}

impl RouteMatch {
    /// Whether the rule accepts the payment.
    #[must_use]
    pub fn accepts(&self, q: &RouteQuery<'_>) -> bool {
        let eq = |want: &Option<String>, have: Option<&str>| want.as_deref().is_none_or(|w| have == Some(w));
        eq(&self.message_type, Some(q.message_type))
            && eq(&self.currency, Some(q.currency))
            && eq(&self.tenant, Some(q.tenant))
            && eq(&self.clearing_system, q.clearing_system)
            && eq(&self.service_level, q.service_level)
            && self.min_amount_minor.is_none_or(|min| q.amount_minor >= min)
            && self.max_amount_minor.is_none_or(|max| q.amount_minor <= max)
            && self.creditor_agent_prefix.as_deref().is_none_or(|p| q.creditor_agent.starts_with(p))
    }
}

impl RouteTable {
    /// Rules in the order they are tried.
    fn ordered(&self) -> impl Iterator<Item = &Route> {
        let mut order: Vec<&Route> = self.routes.iter().collect();
        order.sort_by_key(|r| r.priority); // stable: ties keep table order
        order.into_iter()
    }

    /// The primary link: that of the first matching rule.
    #[must_use]
    pub fn select(&self, q: &RouteQuery<'_>) -> Option<&str> {
        self.ordered().find(|r| r.matches.accepts(q)).map(|r| r.link.as_str())
    }

    /// Every candidate link in failover order, without repeats: each matching rule's link and
    /// then its alternates.
    #[must_use]
    pub fn candidates(&self, q: &RouteQuery<'_>) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for route in self.ordered().filter(|r| r.matches.accepts(q)) {
            for link in std::iter::once(&route.link).chain(&route.alternates) {
                if !out.contains(link) {
                    out.push(link.clone());
                }
            }
        }
        out
    }

    /// Every link the table names (for config validation).
    pub fn links(&self) -> impl Iterator<Item = &str> {
        self.routes
            .iter()
            .flat_map(|r| std::iter::once(r.link.as_str()).chain(r.alternates.iter().map(String::as_str)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q<'a>(currency: &'a str, amount_minor: i64, service_level: Option<&'a str>) -> RouteQuery<'a> {
        RouteQuery {
            tenant: "t",
            message_type: "pacs.008",
            currency,
            amount_minor,
            creditor_agent: "ZYAAZAJJ",
            clearing_system: None,
            service_level,
        }
    }

    #[test]
    fn first_match_wins_by_priority_then_order() {
        let usd = RouteMatch { currency: Some("USD".into()), ..RouteMatch::default() };
        let table = RouteTable {
            routes: vec![
                Route { alternates: vec!["swift-b".into()], ..Route::new(usd, "swift") },
                Route::new(RouteMatch::default(), "rtc"),
                Route {
                    priority: 10,
                    ..Route::new(
                        RouteMatch {
                            max_amount_minor: Some(500_000),
                            service_level: Some("INST".into()),
                            ..RouteMatch::default()
                        },
                        "payshap",
                    )
                },
            ],
        };
        assert_eq!(table.select(&q("USD", 1, None)), Some("swift"));
        assert_eq!(table.select(&q("ZAR", 1, None)), Some("rtc"));
        assert_eq!(table.select(&q("ZAR", 500_000, Some("INST"))), Some("payshap"), "priority 10 first");
        assert_eq!(table.select(&q("ZAR", 500_001, Some("INST"))), Some("rtc"), "over the amount range");
        assert_eq!(RouteTable::default().select(&q("ZAR", 1, None)), None);
        assert_eq!(table.candidates(&q("USD", 1, None)), vec!["swift", "swift-b", "rtc"]);
    }
}
