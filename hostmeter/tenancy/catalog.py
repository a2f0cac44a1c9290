"""The service catalog as DESIGN.md fixes it: codes are stable names in files and code."""

# (code, name, [(resource code, name, unit, kind)])
SERVICES = [
    (
        "web",
        "Web hosting",
        [
            ("disk_space", "Disk space", "MB", "gauge"),
            ("bandwidth", "Bandwidth", "MB", "counter"),
        ],
    ),
    (
        "mail",
        "Email",
        [
            ("mailboxes", "Mailboxes", "count", "gauge"),
            ("mail_storage", "Mailbox storage", "MB", "gauge"),
            ("emails_sent", "Emails sent", "count", "counter"),
        ],
    ),
    (
        "db",
        "Databases",
        [
            ("databases", "Databases", "count", "gauge"),
            ("db_storage", "Database storage", "MB", "gauge"),
        ],
    ),
    ("dns", "DNS", [("dns_zones", "DNS zones", "count", "gauge")]),
    ("ftp", "FTP", [("ftp_accounts", "FTP accounts", "count", "gauge")]),
    ("ssl", "SSL certificates", [("certificates", "Certificates", "count", "gauge")]),
    ("backup", "Backup", [("backup_storage", "Backup storage", "MB", "gauge")]),
]
