//! The route table: which clearing link takes a payment. A pure table consulted by payment
//! actors (no router actor: a lookup needs no mailbox). Issue 6 extends the match criteria,
//! priorities and alternates; the table is swapped whole at runtime.

/// What a route matches on. `None` matches anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteMatch {
    pub currency: Option<String>,
    /// Creditor agent BIC prefix (e.g. "ZYAA" or "ZYAAZAJJ").
    pub creditor_agent_prefix: Option<String>,
    pub tenant: Option<String>,
}

/// One rule: first match wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub matches: RouteMatch,
    pub link: String,
}

/// Ordered rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteTable {
    pub routes: Vec<Route>,
}

/// The facts of a payment a route can look at.
#[derive(Debug, Clone, Copy)]
pub struct RouteQuery<'a> {
    pub tenant: &'a str,
    pub currency: &'a str,
    pub creditor_agent: &'a str,
}

impl RouteMatch {
    fn accepts(&self, q: &RouteQuery<'_>) -> bool {
        self.currency.as_deref().is_none_or(|c| c == q.currency)
            && self.tenant.as_deref().is_none_or(|t| t == q.tenant)
            && self.creditor_agent_prefix.as_deref().is_none_or(|p| q.creditor_agent.starts_with(p))
    }
}

impl RouteTable {
    /// The link of the first matching rule.
    #[must_use]
    pub fn select(&self, q: &RouteQuery<'_>) -> Option<&str> {
        self.routes.iter().find(|r| r.matches.accepts(q)).map(|r| r.link.as_str())
    }

    /// Every matching link in priority order, without repeats: the primary and its alternates.
    #[must_use]
    pub fn candidates(&self, q: &RouteQuery<'_>) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for route in self.routes.iter().filter(|r| r.matches.accepts(q)) {
            if !out.contains(&route.link) {
                out.push(route.link.clone());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_match_wins() {
        let table = RouteTable {
            routes: vec![
                Route {
                    matches: RouteMatch { currency: Some("USD".into()), ..RouteMatch::default() },
                    link: "swift".into(),
                },
                Route { matches: RouteMatch::default(), link: "rtc".into() },
            ],
        };
        let q = |c| RouteQuery { tenant: "t", currency: c, creditor_agent: "ZYAAZAJJ" };
        assert_eq!(table.select(&q("USD")), Some("swift"));
        assert_eq!(table.select(&q("ZAR")), Some("rtc"));
        assert_eq!(RouteTable::default().select(&q("ZAR")), None);
        assert_eq!(table.candidates(&q("USD")), vec!["swift".to_owned(), "rtc".to_owned()]);
    }
}
