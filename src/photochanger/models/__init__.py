"""ORM models, one per file; importing this package registers them all on `Base`."""

from photochanger.models.admin_account import AdminAccount
from photochanger.models.audit_entry import AuditEntry
from photochanger.models.base import Base
from photochanger.models.config_version import ConfigVersion
from photochanger.models.ingest_failure import IngestFailure
from photochanger.models.job import Job
from photochanger.models.job_rollup import (
    DurationBin,
    JobHourCounts,
    JobHourDurations,
    JobMinuteCounts,
    JobMinuteFailures,
    MediaUsage,
)
from photochanger.models.login_failure import LoginFailure
from photochanger.models.media_object import MediaObject
from photochanger.models.revoked_token import RevokedToken
from photochanger.models.setting import Setting
from photochanger.models.slot import Slot
from photochanger.models.template_media import TemplateMedia

__all__ = [
    "AdminAccount",
    "AuditEntry",
    "Base",
    "ConfigVersion",
    "DurationBin",
    "IngestFailure",
    "Job",
    "JobHourCounts",
    "JobHourDurations",
    "JobMinuteCounts",
    "JobMinuteFailures",
    "LoginFailure",
    "MediaObject",
    "MediaUsage",
    "RevokedToken",
    "Setting",
    "Slot",
    "TemplateMedia",
]
