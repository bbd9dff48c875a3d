Bxj
locationext-data.binp