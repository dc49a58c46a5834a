"""The help text of ``/hirebot help``, App Home and DMs, kept apart from ``bot.py``."""

from __future__ import annotations

HELP_TEXT = (
    "*hirebot* writes job descriptions and screens CVs on this company's own server; "
    "nothing leaves it.\n"
    "• `/jobpost Data Scientist; must: Python, SQL; nice: Spark; location: Berlin; "
    "remote` — a JD in a thread, grounded on the occupation's O*NET profile; the "
    "options after `;` are optional (Regenerate shows the next-best draft; Approve, "
    "👍 / 👎 under it)\n"
    "• `/screen Registered Nurse` — a thread where uploaded CVs are screened for that "
    "role; CVs uploaded in a `/jobpost` thread are screened against its JD\n"
    "• Upload CVs (PDF, DOCX, TXT, or a ZIP) with “for Java Developer” in the message "
    "to screen them for that role, or one CV with “suggest” for its best roles and a JD\n"
    "• `/hirebot status` — models, versions and the work queue; admins: "
    "`/hirebot refresh [classifier|generator|matcher]` retrains on the team's data\n"
    "• `/hirebot profile` — the company facts JDs state (name, benefits, …); admins "
    "change them with `/hirebot profile set` or `clear`\n"
    "• Admins: `/hirebot forget <file link | @user>` erases a candidate's records; "
    "`/hirebot flagged` lists team labels that contradict the classifier, to confirm\n"
    "File uploads only reach me in channels I'm a member of: `/invite @hirebot`.")
