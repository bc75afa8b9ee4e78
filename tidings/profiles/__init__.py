"""Profiles: identity resolution, profile writes, merges (and unmerges), property types, deletion."""
