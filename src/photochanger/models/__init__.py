"""ORM models, one per file; importing this package registers them all on `Base`."""

from photochanger.models.base import Base
from photochanger.models.job import Job
from photochanger.models.media_object import MediaObject
from photochanger.models.setting import Setting
from photochanger.models.slot import Slot
from photochanger.models.template_media import TemplateMedia

__all__ = ["Base", "Job", "MediaObject", "Setting", "Slot", "TemplateMedia"]
