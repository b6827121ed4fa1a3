-- trains.sql: the project's own small demo railway network, loaded by the
-- run command after demo.sql. Written for this project (not copied from
-- any data set): 14 stations on two lines that cross at Itarsi and 8
-- trains over them, in the import formats (GeoJSON stations, the
-- dictionary format of trains), through the same train_import an admin
-- uses. Importing it again changes nothing.
SELECT train_import(
$stations${"type": "FeatureCollection", "features": [
 {"type": "Feature", "geometry": {"type": "Point", "coordinates": [77.2197, 28.6430]}, "properties": {"code": "NDLS", "name": "New Delhi", "state": "Delhi", "zone": "NR"}},
 {"type": "Feature", "geometry": {"type": "Point", "coordinates": [77.9900, 27.1590]}, "properties": {"code": "AGC", "name": "Agra Cantt", "state": "Uttar Pradesh", "zone": "NCR"}},
 {"type": "Feature", "geometry": {"type": "Point", "coordinates": [78.1828, 26.2183]}, "properties": {"code": "GWL", "name": "Gwalior Junction", "state": "Madhya Pradesh", "zone": "NCR"}},
 {"type": "Feature", "geometry": {"type": "Point", "coordinates": [78.5685, 25.4484]}, "properties": {"code": "VGLJ", "name": "Virangana Lakshmibai Jhansi", "state": "Uttar Pradesh", "zone": "NCR"}},
 {"type": "Feature", "geometry": {"type": "Point", "coordinates": [77.4126, 23.2680]}, "properties": {"code": "BPL", "name": "Bhopal Junction", "state": "Madhya Pradesh", "zone": "WCR"}},
 {"type": "Feature", "geometry": {"type": "Point", "coordinates": [77.7620, 22.6090]}, "properties": {"code": "ET", "name": "Itarsi Junction", "state": "Madhya Pradesh", "zone": "WCR"}},
 {"type": "Feature", "geometry": {"type": "Point", "coordinates": [79.0882, 21.1520]}, "properties": {"code": "NGP", "name": "Nagpur Junction", "state": "Maharashtra", "zone": "CR"}},
 {"type": "Feature", "geometry": {"type": "Point", "coordinates": [75.7850, 21.0460]}, "properties": {"code": "BSL", "name": "Bhusaval Junction", "state": "Maharashtra", "zone": "CR"}},
 {"type": "Feature", "geometry": {"type": "Point", "coordinates": [73.8370, 19.9480]}, "properties": {"code": "NK", "name": "Nasik Road", "state": "Maharashtra", "zone": "CR"}},
 {"type": "Feature", "geometry": {"type": "Point", "coordinates": [73.1305, 19.2350]}, "properties": {"code": "KYN", "name": "Kalyan Junction", "state": "Maharashtra", "zone": "CR"}},
 {"type": "Feature", "geometry": {"type": "Point", "coordinates": [72.8355, 18.9398]}, "properties": {"code": "CSMT", "name": "Chhatrapati Shivaji Maharaj Terminus", "state": "Maharashtra", "zone": "CR"}},
 {"type": "Feature", "geometry": {"type": "Point", "coordinates": [73.8740, 18.5290]}, "properties": {"code": "PUNE", "name": "Pune Junction", "state": "Maharashtra", "zone": "CR"}},
 {"type": "Feature", "geometry": {"type": "Point", "coordinates": [73.3070, 18.7560]}, "properties": {"code": "LNL", "name": "Lonavala", "state": "Maharashtra", "zone": "CR"}},
 {"type": "Feature", "geometry": {"type": "Point", "coordinates": [80.3319, 26.4499]}, "properties": {"code": "CNB", "name": "Kanpur Central", "state": "Uttar Pradesh", "zone": "NCR"}}
]}$stations$::jsonb,
$trains${
 "90101": {"Train_name": "DEMO RAJDHANI EXPRESS", "From_station": "NEW DELHI", "To_station": "MUMBAI CSMT", "Pair": "90102", "Duration": "16:30", "Distance": 1384,
           "Runs_on": {"mon": 1, "tue": 1, "wed": 1, "thu": 1, "fri": 1, "sat": 1, "sun": 1},
           "Stations": ["NDLS", "AGC", "GWL", "VGLJ", "BPL", "ET", "BSL", "NK", "KYN", "CSMT"]},
 "90102": {"Train_name": "DEMO RAJDHANI EXPRESS", "From_station": "MUMBAI CSMT", "To_station": "NEW DELHI", "Pair": "90101", "Duration": "16:45", "Distance": 1384,
           "Runs_on": {"mon": 1, "tue": 1, "wed": 1, "thu": 1, "fri": 1, "sat": 1, "sun": 1},
           "Stations": ["CSMT", "KYN", "NK", "BSL", "ET", "BPL", "VGLJ", "GWL", "AGC", "NDLS"]},
 "90201": {"Train_name": "DEMO PUNJAB MAIL", "From_station": "MUMBAI CSMT", "To_station": "NEW DELHI", "Pair": "90202", "Duration": "27:10", "Distance": 1390,
           "Runs_on": {"mon": 1, "tue": 1, "wed": 1, "thu": 1, "fri": 1, "sat": 1, "sun": 1},
           "Stations": ["CSMT", "KYN", "NK", "BSL", "ET", "BPL", "VGLJ", "GWL", "AGC", "NDLS"]},
 "90202": {"Train_name": "DEMO PUNJAB MAIL", "From_station": "NEW DELHI", "To_station": "MUMBAI CSMT", "Pair": "90201", "Duration": "27:30", "Distance": 1390,
           "Runs_on": {"mon": 1, "tue": 1, "wed": 1, "thu": 1, "fri": 1, "sat": 1, "sun": 1},
           "Stations": ["NDLS", "AGC", "GWL", "VGLJ", "BPL", "ET", "BSL", "NK", "KYN", "CSMT"]},
 "90301": {"Train_name": "DEMO DECCAN QUEEN", "From_station": "MUMBAI CSMT", "To_station": "PUNE", "Pair": "90302", "Duration": "3:15", "Distance": 192,
           "Runs_on": {"mon": 1, "tue": 1, "wed": 1, "thu": 1, "fri": 1, "sat": 1, "sun": 1},
           "Stations": ["CSMT", "KYN", "LNL", "PUNE"]},
 "90302": {"Train_name": "DEMO DECCAN QUEEN", "From_station": "PUNE", "To_station": "MUMBAI CSMT", "Pair": "90301", "Duration": "3:10", "Distance": 192,
           "Runs_on": {"mon": 1, "tue": 1, "wed": 1, "thu": 1, "fri": 1, "sat": 1, "sun": 1},
           "Stations": ["PUNE", "LNL", "KYN", "CSMT"]},
 "90401": {"Train_name": "DEMO NAGPUR SHATABDI", "From_station": "BHOPAL", "To_station": "NAGPUR", "Pair": "", "Duration": "6:00", "Distance": 390,
           "Runs_on": {"mon": 1, "tue": 0, "wed": 1, "thu": 0, "fri": 1, "sat": 0, "sun": 0},
           "Stations": ["BPL", "ET", "NGP"]},
 "90501": {"Train_name": "DEMO KANPUR EXPRESS", "From_station": "NEW DELHI", "To_station": "KANPUR", "Pair": "", "Duration": "6:40", "Distance": 440,
           "Runs_on": {"mon": 0, "tue": 1, "wed": 0, "thu": 1, "fri": 0, "sat": 1, "sun": 0},
           "Stations": ["NDLS", "AGC", "CNB"]}
}$trains$::jsonb);
