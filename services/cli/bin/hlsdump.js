#!/usr/bin/env node
// Committed (not built) so npm links the bin at install time, before dist/ exists.
import '../dist/main.js';
