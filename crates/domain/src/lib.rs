//! Pure domain types of jiuzhu. No I/O: everything here is data and the rules that keep it valid.

pub mod calendar;
pub mod case;
pub mod catalogue;
pub mod enrolment;
pub mod id_number;
pub mod money;
pub mod monitoring;
pub mod openness;
pub mod payment;
pub mod person;
pub mod region;
pub mod role;
pub mod social;

pub use calendar::{CalendarDate, CalendarError, WorkCalendar, YearSchedule};
pub use catalogue::{Catalogue, Department, Item};
pub use id_number::{age_between, IdNumber, IdNumberError, Sex};
pub use money::{Money, MoneyError};
pub use person::{
    Disability, DisabilityGrade, DisabilityKind, IncomeKind, LabourCapacity, MembershipPeriod,
    Person, PersonError, Phone, Relation, SelfCare,
};
pub use region::{RegionCode, RegionCodeError, RegionLevel};
pub use role::{Permission, Role};
