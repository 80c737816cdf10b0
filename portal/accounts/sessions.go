package accounts

import "devportal/internal/sessionstore"

// Sessions is the database-backed storage of the site's web sessions
// (a fiber.Storage), shared by every replica.
func (s *Service) Sessions() *sessionstore.Store { return sessionstore.New(s.db) }
