//! The text of the playbooks: one per category and direction, one per exposed-service category,
//! and one per common Shadowserver report type, with the port its service listens on.
//!
//! Steps are written for the operator of the affected organisation, imperative, one action each;
//! the rule snippets that go with them are made per alert by the parent module.

use super::Playbook;

const NIST_INCIDENT_HANDLING: &str = "https://csrc.nist.gov/pubs/sp/800/61/r2/final";
const SHADOWSERVER_REPORTS: &str = "https://www.shadowserver.org/what-we-do/network-reporting/";
const CISA_UDP_AMPLIFICATION: &str =
    "https://www.cisa.gov/news-events/alerts/2014/01/17/udp-based-amplification-attacks";
const RFC_2827_BCP38: &str = "https://www.rfc-editor.org/rfc/rfc2827";
const RFC_5358_OPEN_RESOLVERS: &str = "https://www.rfc-editor.org/rfc/rfc5358";
const RPZ_DRAFT: &str = "https://datatracker.ietf.org/doc/draft-vixie-dnsop-dns-rpz/";

// Steps every hosted threat shares, at the end of its list.
const PRESERVE_EVIDENCE: &str = "Preserve evidence before cleaning up: a disk or VM snapshot, web and system logs, and flow records for the period, with hashes and a note of who took them when.";
const BLOCK_USERS: &str = "Until it is gone, keep your own users from reaching it: load the nftables, RPZ and Suricata snippets of this alert on your gateway, resolvers and IDS.";
const REPORT_BACK: &str = "Tell your CERT when it is down (acknowledge, then resolve this alert) so the warning can stop.";

pub(super) static OUTBREAK: Playbook = Playbook {
    key: "outbreak",
    title: "Outbreak: many members are sighting this",
    summary: "Several organisations of the community have sighted the same indicator within a short time: it is active now and likely to reach you too.",
    steps: &[
        "Load the nftables, RPZ and Suricata snippets of this alert on your gateway, resolvers and IDS now, before you investigate.",
        "Search your proxy, DNS, flow and mail logs of the last weeks for the observable, with `watchfire match` or your SIEM, and list the hosts that reached it.",
        "Treat every host found as compromised until checked: isolate it, take memory and disk images, and follow the playbook of the indicator's category.",
        "Report your own sightings to the node (POST /api/v1/sightings), so the community sees how far it spreads; report none you did not see.",
        "Share what you learn (samples, infrastructure, the way in) with your CERT under TLP:AMBER or stricter.",
    ],
    references: &[NIST_INCIDENT_HANDLING],
};

pub(super) static BOTNET_C2_HOSTED: Playbook = Playbook {
    key: "botnet_c2.hosted",
    title: "Botnet command-and-control server in your network",
    summary: "A host or name in your space controls infected machines elsewhere. Every hour it stays up, bots keep receiving orders through it.",
    steps: &[
        "Identify the customer or system behind the address (lease, contract, DHCP or IPAM records) and the port the C2 listens on.",
        PRESERVE_EVIDENCE,
        "Take the server down: suspend the customer's service or isolate the machine, and null-route the address if it cannot be done within the hour.",
        "If the server is a compromised machine of a customer rather than rented by the criminals, tell the customer, who must rebuild it and rotate every credential it held.",
        "Share the evidence (samples, bot lists, configurations) with your CERT and law enforcement on request; mark it TLP:AMBER or stricter.",
        BLOCK_USERS,
        REPORT_BACK,
    ],
    references: &[NIST_INCIDENT_HANDLING],
};

pub(super) static BOTNET_C2_REPORTED: Playbook = Playbook {
    key: "botnet_c2.reported",
    title: "Your host is reported as a botnet command-and-control server",
    summary: "One of your own hosts is listed as controlling a botnet: it is almost certainly compromised and used by an attacker.",
    steps: &[
        "Isolate the host from the network now (switch port, security group or the nftables snippet of this alert); keep it powered on if you can take a memory image.",
        "Preserve evidence: memory and disk images, process list, open connections, and logs of the last weeks.",
        "Find out how the attacker got in (exposed services, stolen credentials, a vulnerable application) and check the other hosts reachable from it.",
        "Rebuild the host from known-good media, patch it, and rotate every credential and key it held or that was typed on it.",
        "Load the Suricata snippet to detect infected machines still calling the C2 from your network.",
        REPORT_BACK,
    ],
    references: &[NIST_INCIDENT_HANDLING],
};

pub(super) static MALWARE_DISTRIBUTION_HOSTED: Playbook = Playbook {
    key: "malware_distribution.hosted",
    title: "Malware is distributed from your network",
    summary: "A URL, name or address in your space serves malware downloads, often from a hacked web site or a rented server.",
    steps: &[
        "Identify the web site or server and its owner from the URL or address (hosting contract, virtual host configuration).",
        PRESERVE_EVIDENCE,
        "Remove the malicious files (or suspend the site) and check the web root for other dropped files and web shells.",
        "Find the entry point (an outdated CMS or plug-in, a stolen FTP or panel password), patch it and rotate the site's credentials, or the files come back.",
        BLOCK_USERS,
        "Ask the blocklists that list the URL (URLhaus and others) for a re-check once it is clean.",
        REPORT_BACK,
    ],
    references: &[NIST_INCIDENT_HANDLING],
};

pub(super) static MALWARE_DISTRIBUTION_REPORTED: Playbook = Playbook {
    key: "malware_distribution.reported",
    title: "Your host is reported as distributing malware",
    summary: "One of your own hosts serves malware: it was hacked, or an application on it lets anyone upload files.",
    steps: &[
        "Take the listed files or pages offline now, keeping a copy for analysis.",
        "Preserve evidence: web server logs, the upload paths, file timestamps, and a disk snapshot.",
        "Find how the files were placed (vulnerable application, stolen credentials, an open upload form) and close that hole.",
        "Scan the host and rotate its credentials; rebuild it if the attacker had a shell.",
        "Check your own users' downloads from it with the Suricata snippet and the file hashes of this alert.",
        REPORT_BACK,
    ],
    references: &[NIST_INCIDENT_HANDLING],
};

pub(super) static PHISHING_HOSTED: Playbook = Playbook {
    key: "phishing.hosted",
    title: "Phishing site in your network or under your domain",
    summary: "A page in your space imitates a log-in or payment page to steal credentials. Victims are typing their passwords into it now.",
    steps: &[
        "Identify the site and its owner: the hosting customer for an address, the registrant or DNS customer for a name under your domain.",
        PRESERVE_EVIDENCE,
        "Take the page down (remove the kit or suspend the site); for a name under your domain, remove or suspend the DNS records.",
        "Look for the kit's output (a file or e-mail address collecting the stolen credentials) and hand it to your CERT so the victims and the imitated brand can be warned.",
        "Find how the kit was placed if the site was hacked, patch it and rotate the site's credentials.",
        BLOCK_USERS,
        REPORT_BACK,
    ],
    references: &[NIST_INCIDENT_HANDLING, RPZ_DRAFT],
};

pub(super) static PHISHING_REPORTED: Playbook = Playbook {
    key: "phishing.reported",
    title: "Your host or domain is reported as hosting phishing",
    summary: "A page on your own host or domain is listed as phishing: it was hacked, or the listing is wrong.",
    steps: &[
        "Check the listed URL from an isolated browser: if it is phishing, take the page offline now, keeping a copy.",
        "Preserve evidence: web server logs, file timestamps and the kit's files.",
        "Find the credentials the kit collected (files, e-mail addresses in its code) and reset the passwords of the victims you can identify.",
        "Close the way in (vulnerable application, stolen panel password) and rotate the site's credentials.",
        "If the listing is wrong, ask your CERT to mark it a false positive so the alert is muted.",
        REPORT_BACK,
    ],
    references: &[NIST_INCIDENT_HANDLING],
};

pub(super) static SCANNER_HOSTED: Playbook = Playbook {
    key: "scanner.hosted",
    title: "Scanning or attacks from your network",
    summary: "An address in your space scans the Internet or attacks services: a customer's machine is compromised, or someone rents it to attack others.",
    steps: &[
        "Identify the customer or system behind the address and the time of the reports.",
        "Notify the customer with the evidence of this alert and ask them to stop the traffic or clean the machine within a deadline.",
        "If the traffic goes on, rate-limit or suspend the service; null-route the address for a sustained attack.",
        PRESERVE_EVIDENCE,
        REPORT_BACK,
    ],
    references: &[NIST_INCIDENT_HANDLING],
};

pub(super) static SCANNER_REPORTED: Playbook = Playbook {
    key: "scanner.reported",
    title: "Your host is reported scanning or attacking others",
    summary: "One of your own hosts scans the Internet or attacks services. Unless it is an authorised scanner, it is compromised.",
    steps: &[
        "Check whether the traffic is an authorised activity (a vulnerability scanner of yours); if so, ask your CERT to mute this alert for the address.",
        "Otherwise isolate the host (the nftables snippet of this alert quarantines it at the gateway) and find the process making the connections.",
        "Preserve evidence: process list, open connections, cron jobs and new accounts, logs.",
        "Rebuild the host from known-good media, patch it, and rotate its credentials.",
        REPORT_BACK,
    ],
    references: &[NIST_INCIDENT_HANDLING],
};

pub(super) static BRUTE_FORCE_HOSTED: Playbook = Playbook {
    key: "brute_force.hosted",
    title: "Password guessing from your network",
    summary: "An address in your space tries passwords against other people's services (SSH, RDP, mail, web log-ins).",
    steps: &[
        "Identify the customer or system behind the address and the services attacked.",
        "Notify the customer with the evidence of this alert: the machine is usually compromised with a weak or stolen password itself.",
        "Rate-limit or suspend the service if the attacks go on; null-route the address for a sustained attack.",
        PRESERVE_EVIDENCE,
        REPORT_BACK,
    ],
    references: &[NIST_INCIDENT_HANDLING],
};

pub(super) static BRUTE_FORCE_REPORTED: Playbook = Playbook {
    key: "brute_force.reported",
    title: "Your host is reported guessing passwords of others",
    summary: "One of your own hosts attacks log-ins elsewhere: it was taken over, usually through a weak password of its own.",
    steps: &[
        "Isolate the host (the nftables snippet of this alert quarantines it at the gateway) and find the process making the attempts.",
        "Preserve evidence: authentication logs, process list, new accounts and SSH keys.",
        "Rebuild the host, patch it, and rotate every password and key on it; allow remote log-ins with keys or a second factor only.",
        "Check your other hosts for the same weak password and the attacker's accounts or keys.",
        REPORT_BACK,
    ],
    references: &[NIST_INCIDENT_HANDLING],
};

pub(super) static SPAM_HOSTED: Playbook = Playbook {
    key: "spam.hosted",
    title: "Spam sent from your network",
    summary: "An address in your space sends spam: a compromised mail account, web form or machine of a customer, or a spammer renting it.",
    steps: &[
        "Identify the customer or system behind the address and what sends the mail (mail server queue, web script, infected desktop).",
        "Notify the customer; for a compromised mail account, reset its password and clear the queue of the spam still waiting.",
        "Block outbound port 25 for the address (and for customer ranges that need no direct mail delivery) until it is clean.",
        "Ask the listing blocklists for removal once the source is fixed.",
        REPORT_BACK,
    ],
    references: &[],
};

pub(super) static SPAM_REPORTED: Playbook = Playbook {
    key: "spam.reported",
    title: "Your host is reported sending spam",
    summary: "One of your own hosts sends spam: a compromised account or web form, an open relay, or malware.",
    steps: &[
        "Check the mail logs and queue: find the account, script or process sending, and stop it (reset the account's password, disable the form).",
        "Make sure the mail server relays only for authenticated users and your own networks.",
        "Clear the spam still in the queue, then ask the listing blocklists for removal.",
        "If malware sends the mail, isolate the host (the nftables snippet of this alert), rebuild it and rotate its credentials.",
        REPORT_BACK,
    ],
    references: &[],
};

pub(super) static INFECTED_HOSTED: Playbook = Playbook {
    key: "infected.hosted",
    title: "Infected machines in your network",
    summary: "A machine behind an address in your space talks to a sinkhole or C2: a customer's device is infected with the malware named in the alert.",
    steps: &[
        "Identify the subscriber behind the address at the reported time (NAT and DHCP logs matter: the address may have moved).",
        "Notify the subscriber with the malware family and the time, and point them to cleaning guidance for it; a walled garden helps for repeated infections.",
        "For a business customer, ask for the device to be cleaned or rebuilt and its credentials rotated.",
        "Watch for the same address in later reports to see that the cleaning worked.",
        REPORT_BACK,
    ],
    references: &[SHADOWSERVER_REPORTS],
};

pub(super) static INFECTED_REPORTED: Playbook = Playbook {
    key: "infected.reported",
    title: "Your host is infected",
    summary: "One of your own machines contacted a sinkhole or C2 of the malware named in the alert: it is infected.",
    steps: &[
        "Find the machine: the address may be a NAT gateway, so match the time and destination in firewall, proxy or DNS logs to the internal host.",
        "Isolate it (switch port or the nftables snippet of this alert) and preserve a memory and disk image if you can.",
        "Rebuild it from known-good media rather than cleaning it, and rotate every credential used on it (browsers, mail, VPN, saved passwords).",
        "Search your logs for other internal hosts contacting the same destinations: the Suricata snippet of this alert finds them.",
        REPORT_BACK,
    ],
    references: &[SHADOWSERVER_REPORTS, NIST_INCIDENT_HANDLING],
};

pub(super) static COMPROMISED_HOSTED: Playbook = Playbook {
    key: "compromised.hosted",
    title: "Compromised site in your network",
    summary: "A web site or host in your space was hacked: it is defaced, redirects visitors to malicious pages, or carries a web shell.",
    steps: &[
        "Identify the site and its owner (hosting customer, virtual host).",
        PRESERVE_EVIDENCE,
        "Notify the owner and suspend the site if it attacks visitors (redirects, drive-by downloads).",
        "The owner restores the site from a clean backup, updates the CMS and its plug-ins, removes unknown accounts and web shells, and rotates every credential of the site.",
        BLOCK_USERS,
        REPORT_BACK,
    ],
    references: &[NIST_INCIDENT_HANDLING],
};

pub(super) static COMPROMISED_REPORTED: Playbook = Playbook {
    key: "compromised.reported",
    title: "Your site is reported compromised",
    summary: "One of your own sites or hosts was hacked: defaced, redirecting visitors, or carrying a web shell.",
    steps: &[
        "Take the site offline or put up a maintenance page, keeping a copy of its files and logs for analysis.",
        "Find the way in (outdated CMS or plug-in, stolen administrator or FTP password) in the logs.",
        "Restore from a clean backup made before the compromise, update everything, remove unknown accounts and files, and rotate every credential of the site and its database.",
        "Check the redirect targets named in the report: visitors may have been infected, so tell them if the site has accounts.",
        REPORT_BACK,
    ],
    references: &[NIST_INCIDENT_HANDLING],
};

pub(super) static TOR_EXIT_HOSTED: Playbook = Playbook {
    key: "tor_exit.hosted",
    title: "Tor exit node in your network",
    summary: "An address in your space relays Tor traffic to the Internet. This is legal in most countries, but abuse reports for its traffic will reach you.",
    steps: &[
        "Check that the relay is known and agreed: a customer running a Tor exit should have told you and publish contact information in its relay descriptor.",
        "If it is not agreed, contact the customer about your acceptable-use policy.",
        "Forward abuse reports about its traffic to the operator; blocking the address does not stop the abuse, which goes through other exits.",
    ],
    references: &[],
};

pub(super) static TOR_EXIT_REPORTED: Playbook = Playbook {
    key: "tor_exit.reported",
    title: "Your host is reported as a Tor exit node",
    summary: "One of your own hosts relays Tor traffic to the Internet.",
    steps: &[
        "Check whether the relay was set up on purpose; an unknown Tor process on a server is a sign of compromise.",
        "If it is not wanted, stop the Tor service, find who installed it, and treat the host as compromised if nobody did.",
        "If it is wanted, make sure your policy allows it and that the relay's contact information reaches the people who answer abuse reports.",
    ],
    references: &[],
};

pub(super) static GENERIC_HOSTED: Playbook = Playbook {
    key: "generic.hosted",
    title: "Malicious activity in your network",
    summary: "A source lists an address, name or URL in your space as malicious without saying more; the evidence of the alert says which source and when.",
    steps: &[
        "Read the evidence of this alert: which sources list it, since when, with which confidence.",
        "Identify the customer or system behind the address or name and ask them about the listing.",
        PRESERVE_EVIDENCE,
        "If the listing is confirmed, take the threat down as for a C2 or phishing site; if it is wrong, ask your CERT to mark it a false positive.",
        BLOCK_USERS,
        REPORT_BACK,
    ],
    references: &[NIST_INCIDENT_HANDLING],
};

pub(super) static GENERIC_REPORTED: Playbook = Playbook {
    key: "generic.reported",
    title: "Your host is reported as malicious",
    summary: "A source lists one of your own hosts or names as malicious without saying more; the evidence of the alert says which source and when.",
    steps: &[
        "Read the evidence of this alert: which sources list it, since when, with which confidence.",
        "Check the host for signs of compromise (unknown processes, accounts, outbound connections) around the reported time.",
        "If it is compromised, isolate it (the nftables snippet of this alert), rebuild it and rotate its credentials.",
        "If the listing is wrong, ask the source for removal and your CERT to mark it a false positive.",
        REPORT_BACK,
    ],
    references: &[NIST_INCIDENT_HANDLING],
};

pub(super) static EXPOSED: Playbook = Playbook {
    key: "exposed",
    title: "Service exposed to the Internet",
    summary: "A service of yours answers anyone on the Internet although it should not: it invites password guessing and exploitation of its next vulnerability.",
    steps: &[
        "Check whether the service must be reachable from the Internet at all; most management and file-sharing services need not.",
        "Restrict it to the networks that need it, on the host and at the gateway: the nftables snippet of this alert drops the port for everyone outside the trusted sets you fill in.",
        "Put remote access behind a VPN with a second factor, and update the service.",
        "Check its logs for log-ins from unknown addresses while it was exposed.",
        REPORT_BACK,
    ],
    references: &[SHADOWSERVER_REPORTS],
};

pub(super) static VULNERABLE: Playbook = Playbook {
    key: "vulnerable",
    title: "Vulnerable service",
    summary: "A service of yours runs a version or configuration with a known vulnerability, seen from the Internet.",
    steps: &[
        "Identify the product and version from the report's details and look up the vendor's advisory.",
        "Patch or upgrade now; if that must wait, restrict the service to the networks that need it (the nftables snippet of this alert).",
        "Check the host for signs of exploitation since the vulnerability was published: new accounts, web shells, unknown processes.",
        REPORT_BACK,
    ],
    references: &[SHADOWSERVER_REPORTS],
};

pub(super) static DDOS_AMPLIFIER: Playbook = Playbook {
    key: "ddos_amplifier",
    title: "Service usable for DDoS amplification",
    summary: "A UDP service of yours answers small spoofed requests with large replies, so attackers use it to flood their victims.",
    steps: &[
        "Check whether the service must answer the Internet at all; if not, restrict it to your own networks (the nftables snippet of this alert).",
        "If it must, configure it not to amplify (disable the large-reply commands, rate-limit replies).",
        "Look at the host's outbound traffic for floods that show it is being used.",
        REPORT_BACK,
    ],
    references: &[CISA_UDP_AMPLIFICATION],
};

/// A playbook for a Shadowserver report type, and the port its service listens on when the event
/// does not say.
pub(super) struct ReportPlaybook {
    pub(super) event_type: &'static str,
    pub(super) playbook: Playbook,
    pub(super) port: Option<u16>,
}

// The report types of the Shadowserver parser (`formats::shadowserver`) and other common `scan_*`
// reports, by event type.
pub(super) static REPORTS: &[ReportPlaybook] = &[
    ReportPlaybook {
        event_type: "ip_spoofer",
        port: None,
        playbook: Playbook {
            key: "report.ip_spoofer",
            title: "Your network lets spoofed packets out",
            summary: "Packets with source addresses that are not yours leave your network: attackers can use it for reflected DDoS attacks that cannot be traced back.",
            steps: &[
                "Apply source address validation (BCP 38) at the edge where the report's address sits: drop outbound packets whose source is not one of your prefixes.",
                "Use unicast reverse-path forwarding (uRPF) on customer-facing interfaces.",
                "Check the report again after the change: the next test from the same network should fail to spoof.",
                REPORT_BACK,
            ],
            references: &[RFC_2827_BCP38],
        },
    },
    ReportPlaybook {
        event_type: "scan_dns",
        port: Some(53),
        playbook: Playbook {
            key: "report.scan_dns",
            title: "Open DNS resolver",
            summary: "A DNS server of yours resolves names for anyone on the Internet, which makes it a DDoS amplifier and a cache-poisoning target.",
            steps: &[
                "If the server is authoritative only, turn recursion off (BIND `recursion no;`, Unbound: do not run it as a resolver).",
                "If it is a resolver, allow recursion only from your own networks (BIND `allow-recursion`, Unbound `access-control`), and restrict port 53 at the gateway with the nftables snippet of this alert.",
                "Check home routers and CPE answering on port 53 on their WAN side: disable the WAN DNS forwarder or update the firmware.",
                REPORT_BACK,
            ],
            references: &[RFC_5358_OPEN_RESOLVERS, CISA_UDP_AMPLIFICATION],
        },
    },
    ReportPlaybook {
        event_type: "scan_elasticsearch",
        port: Some(9200),
        playbook: Playbook {
            key: "report.scan_elasticsearch",
            title: "Open Elasticsearch",
            summary: "An Elasticsearch node of yours answers the Internet: anyone can read, change or delete its data, and bots wipe such indices for ransom.",
            steps: &[
                "Restrict port 9200 (and 9300) to the application servers that need it, with the nftables snippet of this alert and on the host.",
                "Turn on Elasticsearch security (authentication and TLS) and bind it to an internal address.",
                "Check the indices for missing data or a ransom note, and treat personal data in them as possibly leaked (a data-protection notification may be due).",
                REPORT_BACK,
            ],
            references: &[SHADOWSERVER_REPORTS],
        },
    },
    ReportPlaybook {
        event_type: "scan_http",
        port: None,
        playbook: Playbook {
            key: "report.scan_http",
            title: "Web service exposed to the Internet",
            summary: "A web server or web interface of yours (often a device's management page) answers the Internet.",
            steps: &[
                "Check what the report found (the details name the server and the page) and whether it must be public.",
                "Restrict management interfaces to your own networks (the nftables snippet of this alert), and update the software or firmware.",
                "Replace default passwords and turn on authentication where the report shows none.",
                REPORT_BACK,
            ],
            references: &[SHADOWSERVER_REPORTS],
        },
    },
    ReportPlaybook {
        event_type: "scan_memcached",
        port: Some(11211),
        playbook: Playbook {
            key: "report.scan_memcached",
            title: "Open memcached",
            summary: "A memcached server of yours answers the Internet: over UDP it amplifies DDoS attacks tens of thousands of times, and anyone can read its cache.",
            steps: &[
                "Disable UDP (`-U 0`), which memcached does not need, and listen on an internal address only (`-l`).",
                "Restrict port 11211 to the application servers with the nftables snippet of this alert.",
                "Update memcached: versions since 1.5.6 have UDP off by default.",
                REPORT_BACK,
            ],
            references: &[CISA_UDP_AMPLIFICATION],
        },
    },
    ReportPlaybook {
        event_type: "scan_mongodb",
        port: Some(27017),
        playbook: Playbook {
            key: "report.scan_mongodb",
            title: "Open MongoDB",
            summary: "A MongoDB server of yours answers the Internet, often without authentication: its data can be read, wiped or held for ransom.",
            steps: &[
                "Restrict port 27017 to the application servers with the nftables snippet of this alert, and bind MongoDB to an internal address.",
                "Turn on authentication and create users with the least rights they need.",
                "Check the databases for missing data or a ransom note, and treat personal data as possibly leaked.",
                REPORT_BACK,
            ],
            references: &[SHADOWSERVER_REPORTS],
        },
    },
    ReportPlaybook {
        event_type: "scan_ntp",
        port: Some(123),
        playbook: Playbook {
            key: "report.scan_ntp",
            title: "NTP server usable for DDoS amplification",
            summary: "An NTP server of yours answers `monlist` or mode 6/7 queries from the Internet, replies far larger than the requests.",
            steps: &[
                "Update ntpd (4.2.7 and later drop `monlist`) or replace it with chrony or ntpsec.",
                "Refuse queries and configuration from outside: `restrict default kod nomodify notrap nopeer noquery` (and the same for `-6`).",
                "If the host needs to serve time only to your own networks, restrict port 123 at the gateway with the nftables snippet of this alert.",
                REPORT_BACK,
            ],
            references: &[CISA_UDP_AMPLIFICATION],
        },
    },
    ReportPlaybook {
        event_type: "scan_rdp",
        port: Some(3389),
        playbook: Playbook {
            key: "report.scan_rdp",
            title: "Remote Desktop exposed to the Internet",
            summary: "A Windows Remote Desktop service of yours answers the Internet: the favourite way in of ransomware groups, by password guessing or exploits such as BlueKeep.",
            steps: &[
                "Close port 3389 to the Internet (the nftables snippet of this alert, or your firewall) and reach Remote Desktop through a VPN or a Remote Desktop Gateway with a second factor.",
                "If the report says `bluekeep_vulnerable` or `cve20190708_vulnerable`, install the CVE-2019-0708 update now: the flaw is wormable and exploited.",
                "Require Network Level Authentication, lock out accounts after failed log-ins, and check the security log (event 4625, 4624 type 10) for guessing and unknown log-ins.",
                REPORT_BACK,
            ],
            references: &["https://msrc.microsoft.com/update-guide/vulnerability/CVE-2019-0708"],
        },
    },
    ReportPlaybook {
        event_type: "scan_redis",
        port: Some(6379),
        playbook: Playbook {
            key: "report.scan_redis",
            title: "Open Redis",
            summary: "A Redis server of yours answers the Internet: without a password anyone can read its data and often run commands on the host.",
            steps: &[
                "Bind Redis to an internal address and keep `protected-mode yes`; restrict port 6379 with the nftables snippet of this alert.",
                "Set a password or ACL users, and rename or disable `CONFIG`, `MODULE` and `SLAVEOF`.",
                "Check the host for signs of takeover through Redis: unknown SSH keys, cron jobs, or cryptominers.",
                REPORT_BACK,
            ],
            references: &[SHADOWSERVER_REPORTS],
        },
    },
    ReportPlaybook {
        event_type: "scan_smb",
        port: Some(445),
        playbook: Playbook {
            key: "report.scan_smb",
            title: "Windows file sharing (SMB) exposed to the Internet",
            summary: "An SMB service of yours answers the Internet; SMBv1 especially is what WannaCry and NotPetya spread through.",
            steps: &[
                "Close ports 445 and 139 to the Internet (the nftables snippet of this alert, or your firewall); file sharing belongs behind a VPN.",
                "Disable SMBv1 on the host, and install the current Windows or Samba updates.",
                "Check the shares for data that anonymous users could read, and the logs for log-ins from unknown addresses.",
                REPORT_BACK,
            ],
            references: &[
                "https://learn.microsoft.com/en-us/windows-server/storage/file-server/troubleshoot/detect-enable-and-disable-smbv1-v2-v3",
            ],
        },
    },
    ReportPlaybook {
        event_type: "scan_snmp",
        port: Some(161),
        playbook: Playbook {
            key: "report.scan_snmp",
            title: "Open SNMP",
            summary: "An SNMP agent of yours answers the Internet with a guessable community: it leaks the device's configuration and amplifies DDoS attacks.",
            steps: &[
                "Restrict UDP port 161 to your management networks (the nftables snippet of this alert, and the agent's own access list).",
                "Replace the `public` and `private` communities, or move to SNMPv3 with authentication and encryption.",
                "Disable write access unless it is needed.",
                REPORT_BACK,
            ],
            references: &[CISA_UDP_AMPLIFICATION],
        },
    },
    ReportPlaybook {
        event_type: "scan_ssdp",
        port: Some(1900),
        playbook: Playbook {
            key: "report.scan_ssdp",
            title: "Open SSDP (UPnP)",
            summary: "A device of yours answers UPnP discovery from the Internet, replies many times larger than the requests.",
            steps: &[
                "Turn UPnP off on the device's WAN side, or update its firmware; SSDP has no reason to answer the Internet.",
                "Drop UDP port 1900 from the Internet at the gateway with the nftables snippet of this alert.",
                REPORT_BACK,
            ],
            references: &[CISA_UDP_AMPLIFICATION],
        },
    },
    ReportPlaybook {
        event_type: "scan_ssl",
        port: Some(443),
        playbook: Playbook {
            key: "report.scan_ssl",
            title: "Weak TLS configuration",
            summary: "A TLS service of yours accepts outdated protocol versions or ciphers (SSLv3 and POODLE, export ciphers, FREAK), so its traffic can be decrypted or tampered with.",
            steps: &[
                "Read the report's details (protocol, cipher suite, the flags set) to see which weakness it found.",
                "Disable SSLv2, SSLv3, TLS 1.0 and 1.1 and the export, RC4 and DES cipher suites; offer TLS 1.2 and 1.3 with forward-secret suites.",
                "Update the TLS library and the server, and replace self-signed or expired certificates.",
                REPORT_BACK,
            ],
            references: &[SHADOWSERVER_REPORTS],
        },
    },
    ReportPlaybook {
        event_type: "scan_telnet",
        port: Some(23),
        playbook: Playbook {
            key: "report.scan_telnet",
            title: "Telnet exposed to the Internet",
            summary: "A telnet service of yours (often a router, camera or other device) answers the Internet: passwords travel in clear, and Mirai-like botnets log in with default ones.",
            steps: &[
                "Disable telnet and use SSH; if the device cannot, close port 23 to the Internet (the nftables snippet of this alert).",
                "Replace default and weak passwords, and update the firmware.",
                "If the device was reachable with a default password, assume it is infected: reset it to factory settings before changing the password.",
                REPORT_BACK,
            ],
            references: &[SHADOWSERVER_REPORTS],
        },
    },
    ReportPlaybook {
        event_type: "scan_vnc",
        port: Some(5900),
        playbook: Playbook {
            key: "report.scan_vnc",
            title: "VNC exposed to the Internet",
            summary: "A VNC remote-screen service of yours answers the Internet, sometimes without a password: anyone can watch and control the screen.",
            steps: &[
                "Close port 5900 to the Internet (the nftables snippet of this alert) and reach the screen through a VPN.",
                "Set a strong password and update the VNC server.",
                "Check the machine for signs of unknown sessions.",
                REPORT_BACK,
            ],
            references: &[SHADOWSERVER_REPORTS],
        },
    },
];
