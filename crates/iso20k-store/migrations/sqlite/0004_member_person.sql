-- A member's account linked to the person they are in the organisation's records (an id of
-- its people register), so "My work", reminders and the calendar know what is theirs. Per
-- membership, because people registers belong to organisations.
ALTER TABLE memberships ADD COLUMN person TEXT;
