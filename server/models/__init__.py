"""Database models, one module per domain, all under the one Tortoise app label "models" (relations name
them "models.X"). The schema itself is built only by the migrations in migrations/."""

from server.models.exports import EXPORT_STATES, ExportJob
from server.models.households import (Household, HouseholdChange, HouseholdConflict, HouseholdDeparture, HouseholdMerge,
                                      HouseholdMergeMove, HouseholdTag, LedgerEntry, Member)
from server.models.intake import Attachment, PhotoHolder, Review, Submission, SubmissionAttachment, Visit
from server.models.needs import Need, NeedAttachment, NeedEvent, NeedsMonth, ProviderArea, ProviderOffer
from server.models.people import (LEVELS, ROLES, AccessToken, Area, AuditEvent, LoginFailure, Provider,
                                  SubsistenceStandard, User, UserArea)
from server.models.surveys import CatalogueCategory, CatalogueItem, Form, FormVersion

__all__ = ["LEVELS", "ROLES", "Area", "Provider", "User", "UserArea", "AccessToken", "LoginFailure", "AuditEvent", "Form", "FormVersion", "CatalogueCategory", "CatalogueItem", "Household", "Member", "HouseholdChange", "HouseholdConflict", "HouseholdDeparture", "HouseholdMerge", "HouseholdMergeMove", "HouseholdTag", "LedgerEntry", "Attachment", "PhotoHolder", "Visit", "Submission", "SubmissionAttachment", "Review", "EXPORT_STATES", "ExportJob", "SubsistenceStandard", "Need", "NeedEvent", "NeedAttachment", "ProviderArea", "ProviderOffer", "NeedsMonth"]
